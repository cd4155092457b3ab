"""Switchboard's domain: connections, rooms and fan-out, free of I/O."""
