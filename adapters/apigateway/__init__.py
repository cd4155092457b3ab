"""API Gateway's @connections API: the publishers that post to it, and their SigV4 signing."""
