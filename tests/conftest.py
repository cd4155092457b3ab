"""Fixtures shared by every test layer."""

from __future__ import annotations

import pytest

from tests.support import LambdaContext


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()
