"""Reports: transcripts and outcomes on the terminal, JUnit and JSON files, coverage tables."""
