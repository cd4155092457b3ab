"""Fixtures shared by every test layer."""

from __future__ import annotations

import pytest

from tests.support import LambdaContext


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture(scope="session", autouse=True)
def _open_files_limit() -> None:
    """Room for thousands of sockets: burst, churn and load tests open them from this process."""
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
