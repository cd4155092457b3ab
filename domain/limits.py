"""API Gateway's quotas, each defined here once: the domain keeps to them, and the local gateway
(entrypoints/local_gateway) enforces them as AWS does."""

# A message (and an @connections payload): 128 KB; larger ones are refused.
MAX_PAYLOAD_BYTES = 128 * 1024
# A frame: 32 KB; a larger message travels as several frames.
MAX_FRAME_BYTES = 32 * 1024
# API Gateway closes every WebSocket after two hours; a record can never outlive that.
MAX_CONNECTION_SECONDS = 2 * 60 * 60
# ... and one idle for ten minutes.
IDLE_TIMEOUT_SECONDS = 10 * 60
# An integration (the handler) has 29 seconds to answer.
INTEGRATION_TIMEOUT_SECONDS = 29
# An HTTP API request's body (POST /publish): 10 MB; API Gateway answers 413 above it. A publish
# is a message, so the handler holds its body and its envelope to MAX_PAYLOAD_BYTES as well.
MAX_HTTP_API_BODY_BYTES = 10 * 1024 * 1024
