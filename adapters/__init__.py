"""Adapters: the ports of domain/ implemented over DynamoDB, memory, HTTP and time."""
