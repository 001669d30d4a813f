"""The gateway's circuit breakers against real upstreams that fail, then recover."""

import time

from flask import Flask
from werkzeug.wrappers import Response

from core.process import free_port
from gateway.testing import Sent, Upstream
from gateway_api.app import SERVICES, create_app

SUM = "/api/math/sum?a=1&b=2"
PROBLEM = "application/problem+json"
COOLDOWN = 0.5


def gateway(**urls: str) -> Flask:
    return create_app(
        "test",
        {**urls, "GATEWAY_BREAKER_FAILURES": 3, "GATEWAY_BREAKER_COOLDOWN": COOLDOWN},
    )


def test_a_failing_service_rests_then_one_probe_closes_its_circuit(upstream: Upstream) -> None:
    failing = True

    def answer(sent: Sent) -> Response:
        if failing:
            return Response(b"down", status=500)
        return Response(b'{"data": {"result": 3}}', mimetype="application/json")

    upstream.handler = answer
    client = gateway(**{s.url_setting: upstream.url for s in SERVICES}).test_client()
    assert [client.get(SUM).status_code for _ in range(3)] == [500, 500, 500]
    upstream.requests.clear()

    fast = client.get(SUM)  # open: answered at once, nothing sent
    assert fast.status_code == 503 and fast.content_type == PROBLEM
    assert fast.headers["Retry-After"] == "1"
    assert fast.get_json()["detail"] == "The math service is failing; it is not called for now."
    assert upstream.requests == []
    # Each upstream has its own circuit: the others are still called.
    assert client.get("/api/entities").status_code == 500
    assert [sent.target for sent in upstream.requests] == ["/api/entities"]
    ready = client.get("/readyz")  # every upstream's /readyz fails too
    assert ready.status_code == 503
    assert ready.get_json()["detail"] == "Not ready: entity, math (circuit open), note."

    time.sleep(COOLDOWN + 0.1)
    upstream.requests.clear()
    assert client.get(SUM).status_code == 500  # the probe, which fails: open again
    assert client.get(SUM).status_code == 503
    assert len(upstream.requests) == 1

    failing = False
    time.sleep(COOLDOWN + 0.1)
    upstream.requests.clear()
    assert client.get(SUM).get_json() == {"data": {"result": 3}}  # the probe: closed
    assert [client.get(SUM).status_code for _ in range(3)] == [200, 200, 200]
    assert len(upstream.requests) == 4
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["data"]["circuits"] == {
        "entity": "closed",
        "math": "closed",
        "note": "closed",
    }


def test_a_service_that_refuses_connections_gets_a_rest_too(upstream: Upstream) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    urls = {s.url_setting: upstream.url for s in SERVICES}
    client = gateway(**{**urls, "MATH_URL": nobody}).test_client()
    assert [client.get(SUM).status_code for _ in range(3)] == [502, 502, 502]
    refused = client.get(SUM)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    ready = client.get("/readyz")
    assert ready.get_json()["detail"] == "Not ready: math (circuit open)."
    assert client.get("/api/entities").status_code == 200


def test_answers_under_500_keep_the_circuit_closed(upstream: Upstream) -> None:
    upstream.handler = lambda sent: Response(b"{}", status=404, mimetype="application/json")
    client = gateway(**{s.url_setting: upstream.url for s in SERVICES}).test_client()
    assert {client.get(SUM).status_code for _ in range(6)} == {404}
    assert len(upstream.requests) == 6


def test_a_503_with_retry_after_is_the_service_answering_not_failing(
    upstream: Upstream,
) -> None:
    # As note says when entity is down: its other requests still succeed.
    upstream.handler = lambda sent: Response(
        b"{}", status=503, headers={"Retry-After": "2"}, mimetype="application/problem+json"
    )
    client = gateway(**{s.url_setting: upstream.url for s in SERVICES}).test_client()
    answers = [client.get(SUM) for _ in range(6)]
    assert [(a.status_code, a.headers["Retry-After"]) for a in answers] == [(503, "2")] * 6
    assert len(upstream.requests) == 6  # every one sent: the circuit stays closed
    upstream.handler = lambda sent: Response(b"{}", status=503)  # no Retry-After: failing
    assert [client.get(SUM).headers.get("Retry-After") for _ in range(4)] == [None, None, None, "1"]
