"""The pace of requests: each HighLevel resource's rate budget (``RateBudget``), shared by
every request for that resource, and what says its daily budget is spent
(``DailyBudgetSpent``). ``poolkit.client.Client`` holds one budget per resource."""

from __future__ import annotations

import logging
import threading
import time
from bisect import bisect_right
from collections import deque
from typing import Mapping

__all__ = ["DailyBudgetSpent", "RateBudget"]

log = logging.getLogger(__name__)


class DailyBudgetSpent(Exception):
    """A resource's daily request budget is spent (``RateBudget.acquire``)."""


class RateBudget:
    """The request budget of one HighLevel resource (the agency, or one location), shared by
    every request for it: at most ``limit - reserve`` requests in any ``interval``.

    A request holds its slot from when it is sent (``acquire``) until its answer arrives
    (``release``), and for ``interval`` after that: the latest the server can have counted
    it. When the budget is full, ``acquire`` waits only until the oldest slot leaves the
    window. The server's ``X-RateLimit-Remaining`` is the authority when it says less is left
    than this client's own count (other clients of the same app spend the same budget): the
    requests it counts beyond this client's are taken to go on at that rate, and are left
    their room in every window until an answer says otherwise (always a slot short of all of
    it, so that an answer comes to say so). The daily budget
    (``X-RateLimit-Daily-Remaining``) is this resource's own.
    """

    #: The share of each window left unused, for the requests of other clients of the app.
    RESERVE_SHARE = 0.02

    def __init__(self, limit: int = 100, interval: float = 10.0) -> None:
        self.limit, self.interval = limit, interval
        self.daily_remaining: int | None = None
        self._answered: deque[float] = deque()  # when each own answer came, within the window
        self._in_flight = 0
        self._sent: deque[float] = deque()  # when each own request was sent, in order
        self._others = 0  # the requests of other clients in a window, as counted of late
        self._counted: deque[tuple[float, int]] = deque()  # (when, others counted then)
        self._paused_until = 0.0
        self._changed = threading.Condition()
        # one request at a time waits for a slot, the others queue behind it asleep: a
        # release wakes one waiter, not every thread of the agency's (16 of them, each
        # woken to find the slot gone, at every answer)
        self._turn = threading.Lock()

    @property
    def reserve(self) -> int:
        return max(1, round(self.limit * self.RESERVE_SHARE))

    @property
    def _usable(self) -> int:
        """The slots of a window this client may fill: one at least."""
        return max(1, self.limit - self.reserve)

    def _used(self, now: float) -> int:
        while self._answered and self._answered[0] <= now - self.interval:
            self._answered.popleft()
        return len(self._answered) + self._in_flight + self._others

    def acquire(self) -> float:
        """Wait for a slot and hold it: the time it is taken, for ``release``.
        ``DailyBudgetSpent`` once the day's budget is spent."""
        with self._turn, self._changed:
            while True:
                if self.daily_remaining is not None and self.daily_remaining <= 0:
                    raise DailyBudgetSpent
                now = time.monotonic()
                wait = self._paused_until - now
                if wait <= 0:
                    if self._used(now) < self._usable:
                        self._in_flight += 1
                        self._sent.append(now)
                        while self._sent[0] <= now - 2 * self.interval:
                            self._sent.popleft()
                        return now
                    # the oldest own answer leaves the window, or another answer comes
                    if self._answered:
                        wait = self._answered[0] + self.interval - now
                    else:
                        wait = None if self._in_flight else self.interval
                self._changed.wait(wait)

    def release(self, sent: float, headers: Mapping[str, str] | None = None) -> None:
        """The answer to the request ``acquire`` let go at ``sent`` arrived (``headers`` its
        own; None when none came): its slot stays in the window for one interval, and the
        budget learns from the headers."""
        with self._changed:
            now = time.monotonic()
            self._in_flight -= 1
            self._answered.append(now)
            if headers is not None:
                self._observe(headers, sent)
            self._changed.notify()  # the one request waiting its turn (``_turn``)

    def pause(self, seconds: float) -> None:
        """Send nothing more for ``seconds`` (a 429's ``Retry-After``)."""
        with self._changed:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def _observe(self, headers: Mapping[str, str], sent: float) -> None:
        """Learn from an answer's headers; its request was sent at ``sent``, after the own
        requests the server counts with it."""
        numbers = {}
        for name in ("Max", "Remaining", "Interval-Milliseconds", "Daily-Remaining"):
            text = str(headers.get(f"X-RateLimit-{name}", "")).strip()
            if text.isascii() and text.lstrip("-").isdigit():
                numbers[name] = int(text)
        self.limit = max(1, numbers.get("Max", self.limit))
        self._others = min(self._others, self._usable - 1)  # room for one own request
        self.interval = max(
            0.001, numbers.get("Interval-Milliseconds", self.interval * 1000) / 1000
        )
        if "Remaining" in numbers:
            now = time.monotonic()  # own requests the server can have counted with it: sent
            # within the interval before it, or, on the way as long as it was, just before
            earliest = sent - self.interval - (now - sent)  # _sent is in order: bisected
            own = bisect_right(self._sent, sent) - bisect_right(self._sent, earliest)
            self._counted.append((now, self.limit - numbers["Remaining"] - own))
            while len(self._counted) > 1 and self._counted[0][0] <= now - self.interval:
                self._counted.popleft()
            # the most of the last interval: answers overtaken by own requests count too few
            others = max(n for _, n in self._counted)
            self._others = min(max(0, others), self._usable - 1)
            if self._others:
                log.debug("the server counts %d requests of other clients", self._others)
        if "Daily-Remaining" in numbers:
            self.daily_remaining = numbers["Daily-Remaining"]
