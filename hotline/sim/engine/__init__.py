"""The engine: plays TwiML as Twilio does on a virtual clock, over a WSGI or HTTP transport."""
