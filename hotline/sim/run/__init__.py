"""Running calls: a connection to the app under test, and a script played to its outcome."""
