# SPDX-License-Identifier: MIT
"""A progress line on the terminal for the steps that can take long: reading
a large profile, writing a report, converting, writing a run's profile
(``threadprof report``, ``threadprof convert``, ``threadprof run``)."""

from __future__ import annotations

import contextlib
import itertools
import sys
import threading
import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (startup)
if TYPE_CHECKING:
    from typing import TextIO

__all__ = ["PROGRESS_DELAY", "Progress"]

#: The seconds a step runs before its progress is shown.
PROGRESS_DELAY = 1.0


class Progress:
    """A progress line on ``stream`` (a terminal only), drawn from a thread of
    its own every 0.1 s once the work has run :data:`PROGRESS_DELAY` seconds:
    a bar when :meth:`update` has said how far the work is, else a spinner;
    erased at the end; never with ``quiet``. Use it as a context manager."""

    def __init__(self, what: str, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.what = what
        self.quiet = quiet
        self.stream = sys.stderr if stream is None else stream
        self.done = 0
        self.total = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shown = False

    def update(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def line(self, frame: str, elapsed: float, width: int = 79) -> str:
        """The progress line: ``what [bar] done/total elapsed`` or a spinner."""
        if self.total > 0:
            share = self.done / self.total
            filled = round(share * 20)
            status = f"[{'#' * filled}{'-' * (20 - filled)}] {self.done}/{self.total}"
        else:
            status = frame
        text = f"threadprof: {self.what} {status} {elapsed:.1f}s"
        return text if len(text) <= width else "..." + text[len(text) - width + 3 :]

    def _draw(self) -> None:
        start = time.monotonic()
        if self._stop.wait(PROGRESS_DELAY):
            return
        for frame in itertools.cycle("|/-\\"):
            try:
                self.stream.write("\r" + self.line(frame, time.monotonic() - start) + "\x1b[K")
                self.stream.flush()
            except Exception:  # a stream closed under us: no progress, no traceback
                return
            self._shown = True
            if self._stop.wait(0.1):
                return

    def __enter__(self) -> Progress:
        try:
            tty = not self.quiet and self.stream.isatty()
        except (AttributeError, ValueError):
            tty = False
        if tty:
            thread = threading.Thread(target=self._draw, name="threadprof-progress", daemon=True)
            try:
                thread.start()
            except RuntimeError:  # no new thread now (the interpreter is ending): no progress
                return self
            self._thread = thread
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._shown:
            with contextlib.suppress(Exception):
                self.stream.write("\r\x1b[K")
                self.stream.flush()
