"""WebSocket connections as API Gateway runs them: the handshake, frames and limits, route
selection, each connection's calls in order, and the registry of live ones."""
