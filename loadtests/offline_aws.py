"""Benchmarks talk to loopback sinks only: fake AWS credentials, set before boto3 is imported."""

from __future__ import annotations

import os

FAKE = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def use_fake_credentials() -> None:
    """Always the fake ones: nothing in a benchmark may sign with real credentials."""
    os.environ.update(FAKE)
