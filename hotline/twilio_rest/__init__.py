"""The one place hotline reaches Twilio's REST API: twilio's ``Client``, and where it sends it."""
