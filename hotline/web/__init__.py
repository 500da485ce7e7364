"""The web layer: Twilio's voice webhooks, the JSON API, and their security (signatures, tokens)."""
