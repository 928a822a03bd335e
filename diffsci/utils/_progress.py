"""A minimal text progress bar for host loops (standard library only)."""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

from diffsci._internal._validate import fail, static_int


def _format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class ProgressBar:
    """A text progress bar for a host loop over a known number of units (chunks, epochs).

    On a terminal it redraws one line (`\\r`); into a file or pipe it writes one line per update,
    at most every `min_interval` seconds, so logs stay readable.

    ```python
    with ProgressBar(10, desc="sampling") as bar:
        for chunk in range(10):
            ...
            bar.update(1, energy=f"{e:.4f}")
    ```

    **Arguments:**

    - `total`: the number of units.
    - `desc`: a label printed before the bar.
    - `initial`: units already done (a resumed run).
    - `file`: where to write (default `sys.stderr`).
    - `width`: the width of the bar in characters.
    - `enabled`: `False` makes every method a no-op.
    - `min_interval`: the least time in seconds between two lines in non-terminal output.

    Checks: `total` is an integer >= 0, `initial` an integer in `[0, total]`, `width` >= 1,
    `min_interval` a finite number >= 0, `desc` a string, `enabled` a bool, `file` has `write`.
    """

    def __init__(
        self,
        total: int,
        *,
        desc: str = "",
        initial: int = 0,
        file: TextIO | None = None,
        width: int = 30,
        enabled: bool = True,
        min_interval: float = 1.0,
    ):
        who = "ProgressBar"
        total = static_int(total, "total", who, minimum=0)
        initial = static_int(initial, "initial", who, minimum=0)
        if initial > total:
            fail(who, "initial", f"to be at most `total` = {total}", initial)
        width = static_int(width, "width", who, minimum=1)
        if (
            isinstance(min_interval, bool)
            or not isinstance(min_interval, int | float)
            or not (math.isfinite(min_interval) and min_interval >= 0)
        ):
            fail(
                who,
                "min_interval",
                "to be a finite number of seconds >= 0",
                min_interval,
                TypeError if not isinstance(min_interval, int | float) else ValueError,
            )
        if not isinstance(desc, str):
            fail(who, "desc", "to be a string", desc, TypeError)
        if not isinstance(enabled, bool):
            fail(who, "enabled", "to be True or False", enabled, TypeError)
        if file is not None and not callable(getattr(file, "write", None)):
            fail(
                who,
                "file",
                "to be a text stream with a write method (e.g. sys.stderr)",
                file,
                TypeError,
            )
        self.total = total
        self.desc = desc
        self.count = initial
        self.file = sys.stderr if file is None else file
        self.width = width
        self.enabled = enabled
        self.min_interval = min_interval
        self._initial = self.count
        self._start = time.perf_counter()
        self._last_write = -float("inf")
        self._postfix = ""
        try:
            self._tty = bool(self.file.isatty())
        except (AttributeError, ValueError):
            self._tty = False
        self._closed = False

    def __enter__(self) -> ProgressBar:
        self._draw(force=True)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def line(self) -> str:
        """The current line of text (without carriage return or newline)."""
        frac = self.count / self.total if self.total else 1.0
        frac = min(max(frac, 0.0), 1.0)
        filled = int(round(frac * self.width))
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.perf_counter() - self._start
        done = self.count - self._initial
        text = f"{self.desc + ': ' if self.desc else ''}[{bar}] {self.count}/{self.total}"
        text += f" {_format_seconds(elapsed)}"
        if 0 < done and self.count < self.total:
            eta = elapsed / done * (self.total - self.count)
            text += f" eta {_format_seconds(eta)}"
        if self._postfix:
            text += f" {self._postfix}"
        return text

    def update(self, n: int = 1, **postfix) -> None:
        """Advance by `n` units; keyword arguments are shown after the bar as `name=value`."""
        if not self.enabled:
            return
        self.count += n
        if postfix:
            self._postfix = " ".join(f"{k}={v}" for k, v in postfix.items())
        self._draw(force=self.count >= self.total)

    def _draw(self, force: bool = False) -> None:
        if not self.enabled or self._closed:
            return
        now = time.perf_counter()
        if self._tty:
            self.file.write("\r" + self.line())
        elif force or now - self._last_write >= self.min_interval:
            self.file.write(self.line() + "\n")
        else:
            return
        self._last_write = now
        self.file.flush()

    def close(self) -> None:
        """Draw the final state and end the line."""
        if not self.enabled or self._closed:
            return
        if self._tty:
            self.file.write("\r" + self.line() + "\n")
            self.file.flush()
        self._closed = True
