"""Message Center: threads that hold a buyer's question for the seller or the warehouse."""
