"""Whole lines on stdout while many handler calls print at once, as each Lambda sandbox's are.

On Lambda every sandbox has its own stdout; here the worker threads share one, and `print`
writes a line's text and its newline separately, so two threads splice their lines (a metrics
record from Powertools glued to a log record). Each thread's text is held until its line is
complete, then written whole.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class WholeLines(io.TextIOBase):
    """A text stream that writes each thread's lines to `stream` whole, one at a time."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._partial = threading.local()

    def write(self, text: str) -> int:
        pending = getattr(self._partial, "text", "") + text
        complete, newline, rest = pending.rpartition("\n")
        self._partial.text = rest
        if newline:
            captured = getattr(self._partial, "captured", None)
            if captured is not None:
                captured.extend(complete.split("\n"))
            else:
                self.emit(complete + newline)
        return len(text)

    def emit(self, text: str) -> None:
        """Write `text` (whole lines) at once, between other threads' lines."""
        with self._lock:
            self._stream.write(text)
            self._stream.flush()

    @contextmanager
    def capturing(self) -> Iterator[list[str]]:
        """While inside, this thread's lines go to the list instead (one invocation's, to be
        shown together); a last line left without its newline is kept too."""
        lines: list[str] = []
        self._partial.captured = lines
        try:
            yield lines
        finally:
            rest = getattr(self._partial, "text", "")
            if rest:
                lines.append(rest)
                self._partial.text = ""
            self._partial.captured = None

    def flush(self) -> None:
        # A line still being written stays held: flushing it now would splice it again.
        with self._lock:
            self._stream.flush()

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return self._stream.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding
