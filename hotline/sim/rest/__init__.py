"""A local stand-in for the part of Twilio's REST API that voice apps use (``switchboard.py``)."""
