"""The breaker's states on a clock the test turns."""

import logging

import pytest

from gateway.breaker import CLOSED, HALF_OPEN, OPEN, Breaker, Ticket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def breaker(clock: Clock, failures: int = 3, cooldown: float = 10.0) -> Breaker:
    return Breaker("entity", failures=failures, cooldown=cooldown, clock=clock)


def admitted(circuit: Breaker) -> Ticket:
    ticket = circuit.admit()
    assert isinstance(ticket, Ticket), ticket
    return ticket


def fail(circuit: Breaker, times: int) -> None:
    for _ in range(times):
        circuit.record(admitted(circuit), False)


def succeed(circuit: Breaker) -> None:
    circuit.record(admitted(circuit), True)


def test_it_opens_after_so_many_failures_in_a_row(clock: Clock) -> None:
    circuit = breaker(clock)
    fail(circuit, 2)
    assert circuit.state == CLOSED
    succeed(circuit)  # a success clears the count
    fail(circuit, 2)
    assert circuit.state == CLOSED
    fail(circuit, 1)
    assert circuit.state == OPEN


def test_open_it_sends_nothing_and_says_how_long_to_wait(clock: Clock) -> None:
    circuit = breaker(clock)
    fail(circuit, 3)
    assert circuit.admit() == 10
    clock.now += 8.5
    assert circuit.admit() == 2  # rounded up
    clock.now += 1.4
    assert circuit.admit() == 1  # never 0: come back later, not now
    assert circuit.state == OPEN


def test_after_the_cooldown_one_probe_goes_and_its_success_closes(clock: Clock) -> None:
    circuit = breaker(clock)
    fail(circuit, 3)
    clock.now += 10
    assert circuit.state == HALF_OPEN
    probe = admitted(circuit)
    assert probe.probe
    assert circuit.admit() == 1  # the others wait for it
    assert circuit.admit() == 1
    circuit.record(probe, True)
    assert circuit.state == CLOSED
    assert [admitted(circuit).probe for _ in range(3)] == [False, False, False]


def test_a_failed_probe_opens_it_for_another_cooldown(clock: Clock) -> None:
    circuit = breaker(clock)
    fail(circuit, 3)
    clock.now += 12
    circuit.record(admitted(circuit), False)  # the probe's one failure is enough
    assert circuit.state == OPEN
    assert circuit.admit() == 10
    clock.now += 10
    assert admitted(circuit).probe


def test_a_probe_never_sent_leaves_the_next_request_to_probe(clock: Clock) -> None:
    circuit = breaker(clock)
    fail(circuit, 3)
    clock.now += 10
    circuit.record(admitted(circuit), None)  # the client's request could not be sent
    assert circuit.state == HALF_OPEN
    assert admitted(circuit).probe
    assert circuit.admit() == 1


def test_what_was_never_sent_counts_for_nothing(clock: Clock) -> None:
    circuit = breaker(clock, failures=2)
    fail(circuit, 1)
    circuit.record(admitted(circuit), None)
    assert circuit.state == CLOSED
    fail(circuit, 1)
    assert circuit.state == OPEN


def test_a_request_sent_before_the_circuit_opened_is_old_news(clock: Clock) -> None:
    circuit = breaker(clock, failures=1, cooldown=3)
    slow, late = admitted(circuit), admitted(circuit)  # sent while closed
    fail(circuit, 1)  # another one fails: open
    clock.now += 3.5
    probe = admitted(circuit)
    circuit.record(slow, False)  # ends now, failed: neither reopens nor frees the probe
    circuit.record(late, True)  # nor does a success close it
    assert circuit.state == HALF_OPEN
    assert circuit.admit() == 1  # still one probe at a time
    clock.now += 10
    assert circuit.admit() == 1
    circuit.record(probe, True)
    assert circuit.state == CLOSED


def test_opening_and_closing_are_logged_once_each(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    circuit = breaker(clock, failures=1)
    with caplog.at_level(logging.INFO, logger="gateway.breaker"):
        fail(circuit, 1)
        clock.now += 10
        succeed(circuit)
        fail(circuit, 1)
    assert [r.getMessage() for r in caplog.records] == [
        "circuit open: entity failed 1 times in a row; no request for 10 s",
        "circuit closed: entity answers again",
        "circuit open: entity failed 1 times in a row; no request for 10 s",
    ]


@pytest.mark.parametrize(("failures", "cooldown"), [(0, 10.0), (3, 0.0), (3, -1.0)])
def test_a_breaker_that_could_never_close_or_open_is_refused(
    failures: int, cooldown: float
) -> None:
    with pytest.raises(ValueError, match="failures >= 1 and cooldown > 0"):
        Breaker("entity", failures=failures, cooldown=cooldown)


def test_each_opening_and_closing_is_told(clock: Clock) -> None:
    told: list[str] = []
    circuit = Breaker("entity", failures=1, cooldown=10, clock=clock, on_change=told.append)
    fail(circuit, 1)
    clock.now += 10  # half open: no change told, the probe decides
    assert circuit.state == HALF_OPEN
    succeed(circuit)
    assert told == [CLOSED, OPEN, CLOSED]
