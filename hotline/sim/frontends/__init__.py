"""Front ends: `hotline replay`, `hotline call` (a phone in the terminal), and the pytest plugin."""
