"""HTTP APIs served beside the WebSocket API: POST /publish (the template's PublishApi)."""
