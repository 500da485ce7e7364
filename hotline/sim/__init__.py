"""The offline stand-in for Twilio: replays call scripts against any Twilio voice app.

Layers, each importing only those before it: ``model`` (events, errors, behaviours), ``engine``
(TwiML, clock, legs, dialling, queues, transports, signing), ``scripts`` (reading call scripts,
playing the caller, checking outcomes), ``hotline_aware`` (the one place that reads hotline's own
flow files and event trail), ``run`` (connections and running calls), ``report`` (transcripts,
JUnit/JSON, coverage tables) and ``frontends`` (replay, the terminal phone, the pytest plugin).
"""
