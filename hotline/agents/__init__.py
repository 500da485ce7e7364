"""The warehouse agents: who they are, their states, the queue they take callers from."""
