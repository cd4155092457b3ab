"""Soak runs: tests that are long because they measure (churn, load).

`make test` (and so CI) runs them in a short form; `make soak` runs them at full length
(SWITCHBOARD_SOAK=full). Both forms assert the same things; the figures they record say which
form produced them.
"""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

FULL = os.environ.get("SWITCHBOARD_SOAK", "short") == "full"
FORM = "full" if FULL else "short"


def scaled(full: T, short: T) -> T:
    """`full` in a full soak run, `short` otherwise."""
    return full if FULL else short
