"""vpbx domain: pure call logic. No clock, uuid, environment or I/O in here; the shell passes them in."""
