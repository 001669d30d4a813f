"""CORS at the gateway, in front of a real upstream: the gateway answers for
every service, preflights never reach one, and a service's own CORS headers
do not get through."""

from werkzeug.wrappers import Response

from gateway.testing import Sent, Upstream
from gateway_api.app_test import make

PAGE = "https://app.example.com"
SUM = "/api/math/sum?a=1&b=2"


def test_a_page_of_an_allowed_origin_reads_a_service_s_answer(upstream: Upstream) -> None:
    def answer(sent: Sent) -> Response:  # a service with a CORS policy of its own
        return Response(
            b'{"data": {"result": 3}}',
            mimetype="application/json",
            headers={
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Credentials": "true",
                "X-Request-ID": sent.headers["X-Request-ID"],
            },
        )

    upstream.handler = answer
    client = make(MATH_URL=upstream.url, CORS_ORIGINS=PAGE).test_client()
    allowed = client.get(SUM, headers={"Origin": PAGE})
    assert allowed.status_code == 200 and allowed.get_json() == {"data": {"result": 3}}
    assert allowed.headers.getlist("Access-Control-Allow-Origin") == [PAGE]
    assert "X-Request-ID" in allowed.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    assert allowed.headers["Vary"] == "Origin"
    other = client.get(SUM, headers={"Origin": "https://evil.example.net"})
    assert other.status_code == 200
    assert not [k for k, _ in other.headers.items() if k.lower().startswith("access-control-")]
    assert len(upstream.requests) == 2
    assert upstream.requests[0].headers["Origin"] == PAGE  # the service may still log it


def test_a_preflight_is_answered_by_the_gateway_alone(upstream: Upstream) -> None:
    client = make(MATH_URL=upstream.url, CORS_ORIGINS=PAGE).test_client()
    asked = {
        "Origin": PAGE,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
    }
    response = client.options(SUM, headers=asked)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == PAGE
    assert response.headers["Access-Control-Allow-Headers"] == (
        "authorization, content-type, idempotency-key"
    )
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert upstream.requests == []
    # Without CORS configured, an OPTIONS goes to the service as any request.
    plain = make(MATH_URL=upstream.url).test_client().options(SUM, headers=asked)
    assert "Access-Control-Allow-Origin" not in plain.headers
    assert [sent.method for sent in upstream.requests] == ["OPTIONS"]


def test_the_gateway_s_own_answers_carry_cors_too() -> None:
    client = make(CORS_ORIGINS=PAGE).test_client()
    for path in ("/openapi.json", "/no/such/service"):
        response = client.get(path, headers={"Origin": PAGE})
        assert response.headers["Access-Control-Allow-Origin"] == PAGE, path
