"""Deploying Switchboard to AWS: the template, the Lambda package, the stack commands."""
