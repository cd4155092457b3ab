"""Fixtures shared by every test layer."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from tests.support import LambdaContext

# Hypothesis: local runs explore (random examples, and failures replayed from .hypothesis/);
# CI (.ci/run sets HYPOTHESIS_PROFILE=ci) is deterministic: the same examples on every run, so
# a red CI is a bug to fix, never bad luck. A failure found locally becomes an @example.
settings.register_profile("dev")
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


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
