"""Delays between retries of something that failed (HA connection, microphone)."""

from __future__ import annotations

from collections.abc import Sequence


class Backoff:
    """Retry delays: `delays_s` in turn, then the last one for good.

    `next_delay()` gives the seconds to wait before the next attempt; `reset()` after a
    success starts over from the first delay. Raises ValueError for no delays.
    """

    def __init__(self, delays_s: Sequence[float]) -> None:
        if not delays_s:
            raise ValueError("a backoff needs at least one delay")
        self.delays_s = tuple(delays_s)
        self.attempt = 0  # failures since the last success

    def next_delay(self) -> float:
        """Count one more failure; return the seconds to wait before retrying."""
        delay = self.delays_s[min(self.attempt, len(self.delays_s) - 1)]
        self.attempt += 1
        return delay

    def reset(self) -> None:
        """Start over after a success: the next failure waits the first delay."""
        self.attempt = 0
