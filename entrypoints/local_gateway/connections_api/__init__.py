"""The @connections management API: over HTTP (POST, GET, DELETE) and in-process."""
