"""The one port serve listens on: HTTP/1.1 (h11), upgrades handed to WebSockets, the chat page."""
