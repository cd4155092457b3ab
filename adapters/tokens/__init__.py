"""Tokens and secrets: JWTs (PyJWT) for the $connect authorizer, and secrets kept in SSM."""
