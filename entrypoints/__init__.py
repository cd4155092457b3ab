"""Entrypoints: the Lambda handler, the container, the local gateway and the CLI."""
