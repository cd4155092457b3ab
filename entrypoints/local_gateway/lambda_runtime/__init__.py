"""Lambda on a laptop: handlers imported by name, invoked on worker threads with a context and
API Gateway's events, their output kept whole, and the fan-out queue that feeds the worker."""
