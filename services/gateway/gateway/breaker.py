"""A circuit breaker per upstream: a failing service gets a rest, and its
clients a fast answer.

After ``failures`` failures in a row (a connection refused or reset, a
timeout, a 5xx answer), the circuit *opens*. A 503 with ``Retry-After`` is no
failure: the service answers, and says that something it needs (its
database, a service it calls) is down; its other requests may well succeed.
Open, for ``cooldown`` seconds no request is sent to that upstream, and the
proxy answers each at once with a 503 problem and ``Retry-After``. Then the
circuit is *half open*: the next request is sent as a probe, alone (the
others still get their fast 503), and its outcome decides: an answer that is
no failure closes the circuit, a failure opens it for another cooldown. A
success while closed clears the count.

State is per gateway worker, as the upstream connection pools are: each
worker learns of a failing service from its own requests. Opening and
closing are logged once each.

Not pybreaker: its ``call`` holds the breaker's lock for the whole call, so a
worker would send one request at a time to each upstream, and its half-open
state lets every request through rather than one probe.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["CLOSED", "HALF_OPEN", "OPEN", "Breaker", "Ticket"]

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ticket:
    """What `Breaker.admit` let through: the probe or not, and in which of
    the circuit's openings (a request sent before the circuit opened may end
    after it: its outcome is old news then)."""

    probe: bool
    opening: int


class Breaker:
    """The circuit of the upstream *name* (see the module docstring)."""

    def __init__(
        self,
        name: str,
        *,
        failures: int,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str], None] = lambda state: None,
    ) -> None:
        """*on_change* is told the state it opens or closes to (and, now,
        ``closed``); half open is the open state with its cooldown over."""
        if failures < 1 or cooldown <= 0:
            raise ValueError("a breaker needs failures >= 1 and cooldown > 0")
        self.name = name
        self.failures = failures
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._failed = 0  # failures in a row
        self._openings = 0  # times the circuit opened
        self._opened_at = 0.0
        self._state = CLOSED
        self._probing = False
        self._on_change = on_change
        on_change(CLOSED)

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half-open`` (open with its cooldown over)."""
        with self._lock:
            return self._current()

    def admit(self) -> Ticket | int:
        """A `Ticket` when a request may be sent now (when the cooldown is over,
        as the probe), to give back to `record`; else the seconds to wait, at
        least 1, for ``Retry-After``."""
        with self._lock:
            state = self._current()
            if state == CLOSED:
                return Ticket(probe=False, opening=self._openings)
            if state == HALF_OPEN and not self._probing:
                self._probing = True
                return Ticket(probe=True, opening=self._openings)
            left = self._opened_at + self.cooldown - self._clock()
            return max(1, math.ceil(left))

    def record(self, ticket: Ticket, ok: bool | None) -> None:
        """The outcome of the request *ticket* let through: *ok*, a failure, or
        ``None`` when it was never sent (the client's fault)."""
        with self._lock:
            if ticket.probe:
                self._probing = False
            elif ticket.opening != self._openings:
                return  # sent before the circuit last opened
            if ok is None:
                return
            if ok:
                self._failed = 0
                if self._state != CLOSED:
                    self._state = CLOSED
                    self._on_change(CLOSED)
                    log.info("circuit closed: %s answers again", self.name)
                return
            self._failed += 1
            if ticket.probe or self._failed >= self.failures:
                self._state = OPEN
                self._openings += 1
                self._opened_at = self._clock()
                self._on_change(OPEN)
                log.warning(
                    "circuit open: %s failed %d times in a row; no request for %g s",
                    self.name,
                    self._failed,
                    self.cooldown,
                )

    def _current(self) -> str:
        if self._state == OPEN and self._clock() >= self._opened_at + self.cooldown:
            return HALF_OPEN
        return self._state
