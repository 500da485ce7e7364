"""The rules of the business, pure: hours, routing, handoff outcomes, phone numbers.

Plain values and an explicit ``now`` in, decisions out; nothing here imports Flask or the store.
"""
