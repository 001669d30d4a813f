"""The proxy against a real upstream that records what reaches it (see ``conftest.py``)."""

import socket
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.wrappers import Response

from core.process import free_port
from gateway.proxy import rewrite_links
from gateway.testing import KeepAliveUpstream, Received, Sent, Upstream
from gateway.upstreams import Upstream as UpstreamConfig
from gateway_api.app import create_app


@pytest.fixture
def app(upstream: Upstream) -> Iterator[Flask]:
    yield create_app(
        env="test",
        overrides={
            "ENTITY_URL": upstream.url,
            "MATH_URL": upstream.url,
            "GATEWAY_READ_TIMEOUT": 0.5,
        },
    )


def test_method_path_query_and_body_go_up(client: FlaskClient, upstream: Upstream) -> None:
    response = client.post(
        "/api/entities/7/x?b=2&a=%20one&a=two",
        data=b'{"name": "n"}',
        content_type="application/json",
    )
    assert response.status_code == 200
    [sent] = upstream.requests
    assert sent.method == "POST"
    assert sent.target == "/api/entities/7/x?b=2&a=%20one&a=two"
    assert sent.body == b'{"name": "n"}'
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["content-length"] == "13"


def test_headers_going_up(client: FlaskClient, upstream: Upstream) -> None:
    client.get(
        "/api/math/sum",
        headers={
            "Authorization": "Bearer abc.def.ghi",
            "Connection": "close, X-Secret-Hop",
            "X-Secret-Hop": "drop me",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
            "Upgrade": "websocket",
            "Proxy-Authorization": "Basic x",
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Host": "spoofed.example",
            "X-Request-ID": "client-chosen-id",
            "Accept": "application/json",
        },
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    sent = upstream.requests[0].headers
    assert sent["authorization"] == "Bearer abc.def.ghi"
    assert sent["accept"] == "application/json"
    for hop in ("x-secret-hop", "keep-alive", "te", "upgrade", "proxy-authorization"):
        assert hop not in sent, hop
    assert sent["x-forwarded-for"] == "203.0.113.9, 198.51.100.4"
    assert sent["x-forwarded-host"] == "localhost"
    assert sent["x-forwarded-proto"] == "http"
    assert sent["x-request-id"] == "client-chosen-id"
    assert sent["host"] == upstream.url.removeprefix("http://")


def test_a_malformed_request_id_is_replaced_and_returned(
    client: FlaskClient, upstream: Upstream
) -> None:
    response = client.get("/api/math/sum", headers={"X-Request-ID": "bad id <script>"})
    sent_id = upstream.requests[0].headers["x-request-id"]
    assert sent_id != "bad id <script>"
    assert response.headers["X-Request-ID"] == sent_id


def test_answers_come_back_with_links_rewritten(client: FlaskClient, upstream: Upstream) -> None:
    upstream.handler = lambda sent: Response(
        b'{"data": {"id": 9}}',
        201,
        headers=[
            ("Location", f"{upstream.url}/api/entities/9"),
            (
                "Link",
                f'<{upstream.url}/api/entities?page=2>; rel="next", <http://other/x>; rel="x"',
            ),
            ("ETag", '"9-1"'),
            ("Connection", "keep-alive, X-Hop"),
            ("X-Hop", "private"),
            ("Server", "upstream"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
        ],
        mimetype="application/json",
    )
    response = client.post("/api/entities", json={"name": "n"})
    assert response.status_code == 201
    assert response.headers["Location"] == "http://localhost/api/entities/9"
    assert response.headers["Link"] == (
        '<http://localhost/api/entities?page=2>; rel="next", <http://other/x>; rel="x"'
    )
    assert response.headers["ETag"] == '"9-1"'
    assert "X-Hop" not in response.headers
    assert response.headers.get("Server") != "upstream"
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert response.get_json() == {"data": {"id": 9}}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://entity/x", "https://gw/x"),
        ("http://entity", "https://gw"),
        ("<http://entity?page=2>; rel=next", "<https://gw?page=2>; rel=next"),
        ("http://entity.evil.example/x", "http://entity.evil.example/x"),
        ("http://entity:9/x", "http://entity:9/x"),
        ("http://other/http://entity/x", "http://other/http://entity/x"),
        (
            '<http://entity/a>; rel="self", <http://entity/b>',
            '<https://gw/a>; rel="self", <https://gw/b>',
        ),
    ],
)
def test_rewrite_links_only_touches_the_upstream_origin(value: str, expected: str) -> None:
    upstream = UpstreamConfig("entity", "http://entity", ("/api/entities",))
    assert rewrite_links(value, upstream, "https://gw/") == expected


def test_bodiless_answers_have_no_media_type(client: FlaskClient, upstream: Upstream) -> None:
    def no_content(sent: Sent) -> Response:
        answer = Response(status=204)
        del answer.headers["Content-Type"]
        return answer

    upstream.handler = no_content
    response = client.delete("/api/entities/1")
    assert response.status_code == 204
    assert "Content-Type" not in response.headers
    assert response.data == b""


def test_upstream_errors_pass_through(client: FlaskClient, upstream: Upstream) -> None:
    upstream.handler = lambda sent: Response(
        b'{"status": 404}', 404, mimetype="application/problem+json"
    )
    response = client.get("/api/entities/5")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.get_json() == {"status": 404}


def test_a_refused_connection_is_502(upstream: Upstream) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    app = create_app(env="test", overrides={"ENTITY_URL": nobody, "MATH_URL": nobody})
    response = app.test_client().post("/api/entities", json={"name": "n"})
    assert response.status_code == 502
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert "entity" in problem["detail"]
    assert problem["instance"] == "/api/entities"
    assert problem["requestId"] == response.headers["X-Request-ID"]


def test_a_connection_dropped_mid_request_is_502_and_a_post_is_sent_once(
    client: FlaskClient, upstream: Upstream
) -> None:
    def hang_up(sent: Sent) -> Response:
        sent.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError  # werkzeug's server gives up on the answer

    upstream.handler = hang_up
    response = client.post("/api/entities", json={"name": "once"})
    assert response.status_code == 502
    assert response.content_type == "application/problem+json"
    assert len(upstream.requests) == 1  # never retried


def test_an_upstream_slower_than_the_read_timeout_is_504(
    client: FlaskClient, upstream: Upstream
) -> None:
    def slow(sent: Sent) -> Response:
        time.sleep(1.0)
        return Response(b"{}")

    upstream.handler = slow
    response = client.post("/api/entities", json={"name": "n"})
    assert response.status_code == 504
    assert "did not answer in time" in response.get_json()["detail"]
    assert len(upstream.requests) == 1


def test_answers_stream_back_whole(client: FlaskClient, upstream: Upstream) -> None:
    chunks = [bytes([65 + i]) * 50_000 for i in range(8)]
    upstream.handler = lambda sent: Response(iter(chunks), mimetype="application/octet-stream")
    response = client.get("/api/entities/export")
    assert response.status_code == 200
    assert response.data == b"".join(chunks)
    assert "Transfer-Encoding" not in response.headers  # the server frames it again


def test_head_answers_have_headers_only(client: FlaskClient, upstream: Upstream) -> None:
    upstream.handler = lambda sent: Response(b'{"data": {}}', mimetype="application/json")
    response = client.head("/api/entities/1")
    assert response.status_code == 200
    assert upstream.requests[0].method == "HEAD"
    assert response.headers["Content-Length"] == "12"
    assert response.data == b""


def test_unknown_paths_are_404_without_an_upstream_call(
    client: FlaskClient, upstream: Upstream
) -> None:
    for path in ("/nowhere", "/api", "/api/entitiesx"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.content_type == "application/problem+json"
    assert upstream.requests == []


def test_bodies_over_the_limit_are_413_without_an_upstream_call(
    app: Flask, upstream: Upstream
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = app.test_client().post(
        "/api/entities", data=b"x" * 1001, content_type="application/json"
    )
    assert response.status_code == 413
    assert upstream.requests == []


def test_the_target_goes_up_as_sent_never_decoded(client: FlaskClient, upstream: Upstream) -> None:
    for target in (
        "/api/entities/..%2F..%2Fhealthz",
        "/api/math/sum%3Fa=1%26b=2",
        "/api/entities/1%23frag",
        "/api/math/%00",
    ):
        client.get(target, environ_base={"RAW_URI": target})
        assert upstream.requests[-1].target == target


def test_encoded_prefixes_do_not_match(client: FlaskClient, upstream: Upstream) -> None:
    target = "/api%2Fentities/1"
    assert client.get(target, environ_base={"RAW_URI": target}).status_code == 404
    assert upstream.requests == []


def test_header_bytes_go_up_as_sent(client: FlaskClient, upstream: Upstream) -> None:
    response = client.get("/api/math/sum", headers={"User-Agent": "caf\xe9", "Cookie": "a=\xff"})
    assert response.status_code == 200
    sent = upstream.requests[0].headers
    assert sent["User-Agent"] == "caf\xe9"  # latin-1 both ways: the same bytes


def test_the_clients_forwarded_header_is_dropped(client: FlaskClient, upstream: Upstream) -> None:
    client.get("/api/math/sum", headers={"Forwarded": "for=203.0.113.1;host=evil.example"})
    assert "forwarded" not in upstream.requests[0].headers


def gateway(upstream_url: str, **settings: object) -> Flask:
    """The gateway in front of *upstream_url* for every route, with *settings*."""
    return create_app(
        env="test",
        overrides={"ENTITY_URL": upstream_url, "MATH_URL": upstream_url, **settings},
    )


# -- hop-by-hop headers (RFC 9110, 7.6.1), both ways ----------------------------------

# Each with a value a client or server would send. Connection names X-Secret-Hop
# in every case, so that the header Connection lists is dropped as well.
HOP_HEADERS = {
    "Connection": "close, X-Secret-Hop",
    "Keep-Alive": "timeout=5, max=100",
    "Proxy-Connection": "keep-alive",
    "TE": "trailers",
    "Trailer": "X-Checksum",
    "Transfer-Encoding": "chunked",
    "Upgrade": "websocket",
    "Proxy-Authorization": "Basic dXNlcjpwYXNz",
    "Proxy-Authenticate": 'Basic realm="proxy"',
}


@pytest.mark.parametrize("name", HOP_HEADERS)
def test_no_hop_by_hop_header_reaches_the_upstream(
    client: FlaskClient, upstream: Upstream, name: str
) -> None:
    headers = {
        "Connection": "X-Secret-Hop",
        name: HOP_HEADERS[name],
        "X-Secret-Hop": "private",
        "X-End-To-End": "kept",
    }
    response = client.get("/api/math/sum", headers=headers)
    assert response.status_code == 200
    [sent] = upstream.requests
    assert sent.headers["X-End-To-End"] == "kept"
    assert name not in sent.headers or name == "Connection"
    assert "X-Secret-Hop" not in sent.headers
    # What the gateway's own client says about its connection, never the client's words.
    assert sent.headers.get("Connection", "").lower() in ("", "keep-alive")


@pytest.mark.parametrize("name", HOP_HEADERS)
def test_no_hop_by_hop_header_of_the_upstream_reaches_the_client(
    client: FlaskClient, upstream: Upstream, name: str
) -> None:
    def answer(sent: Sent) -> Response:
        body = [b'{"data": ', b"{}}"]  # streamed: the upstream frames it chunked
        response = Response(iter(body), mimetype="application/json")
        if name != "Transfer-Encoding":  # the upstream's server sets that one itself
            response.headers[name] = HOP_HEADERS[name]
        response.headers.add("Connection", "X-Secret-Hop")
        response.headers["X-Secret-Hop"] = "private"
        response.headers["X-End-To-End"] = "kept"
        return response

    upstream.handler = answer
    response = client.get("/api/entities/1")
    assert response.get_json() == {"data": {}}
    assert response.headers["X-End-To-End"] == "kept"
    for dropped in (name, "Connection", "X-Secret-Hop", "Transfer-Encoding"):
        assert dropped not in response.headers, dropped


# -- Location and Content-Location, behind trusted proxies ---------------------------


@pytest.mark.parametrize("header", ["Location", "Content-Location"])
def test_links_are_rewritten_to_the_https_origin_the_trusted_proxy_names(
    upstream: Upstream, header: str
) -> None:
    client = gateway(upstream.url, TRUSTED_PROXY_HOPS=1).test_client()
    forwarded = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "api.example.com",
        "X-Forwarded-For": "203.0.113.7",
    }
    for given, expected in [
        (f"{upstream.url}/api/entities/9", "https://api.example.com/api/entities/9"),
        (f"{upstream.url}/api/entities?page=2", "https://api.example.com/api/entities?page=2"),
        (upstream.url, "https://api.example.com"),
        ("/api/entities/9", "/api/entities/9"),  # relative: already the client's origin
        ("http://elsewhere.example/api/entities/9", "http://elsewhere.example/api/entities/9"),
        ("http://127.0.0.1:1/x", "http://127.0.0.1:1/x"),  # another port: another origin
    ]:

        def answer(sent: Sent, given: str = given) -> Response:
            return Response(b"{}", 201, headers={header: given})

        upstream.handler = answer
        response = client.post("/api/entities", json={}, headers=forwarded)
        assert response.headers.get(header) == expected, (given, response.data)


@pytest.mark.parametrize("header", ["Location", "Content-Location"])
def test_an_untrusted_clients_forwarded_proto_and_host_do_not_steer_links(
    client: FlaskClient, upstream: Upstream, header: str
) -> None:
    upstream.handler = lambda sent: Response(
        b"{}", 201, headers={header: f"{upstream.url}/api/entities/9"}
    )
    response = client.post(
        "/api/entities",
        json={},
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"},
    )
    assert response.headers[header] == "http://localhost/api/entities/9"


# -- forwarding headers, request ids ------------------------------------------------------


def test_forwarding_headers_behind_a_trusted_proxy(upstream: Upstream) -> None:
    client = gateway(upstream.url, TRUSTED_PROXY_HOPS=1).test_client()
    client.get(
        "/api/math/sum",
        headers={
            # The client wrote the first entry; the trusted proxy appended what it saw.
            "X-Forwarded-For": "198.51.100.1, 203.0.113.7",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "api.example.com",
        },
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    sent = upstream.requests[0].headers
    # A service trusting one hop (the gateway) takes the last entry: the client.
    assert sent["X-Forwarded-For"].split(", ")[-1] == "203.0.113.7"
    assert sent["X-Forwarded-Proto"] == "https"
    assert sent["X-Forwarded-Host"] == "api.example.com"
    assert sent["Host"] == upstream.url.removeprefix("http://")


def test_forwarding_headers_a_client_sends_without_a_trusted_proxy_are_replaced(
    client: FlaskClient, upstream: Upstream
) -> None:
    client.get(
        "/api/math/sum",
        headers={
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Port": "8443",
            "X-Forwarded-Prefix": "/evil",
            "X-Forwarded-For": "203.0.113.9",
            "Host": "localhost",
        },
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    sent = upstream.requests[0].headers
    assert sent["X-Forwarded-Proto"] == "http"
    assert sent["X-Forwarded-Host"] == "localhost"
    assert sent["X-Forwarded-For"].split(", ")[-1] == "198.51.100.4"
    assert "X-Forwarded-Port" not in sent and "X-Forwarded-Prefix" not in sent


def test_a_request_id_is_made_when_none_is_sent_and_the_upstreams_is_not_returned(
    client: FlaskClient, upstream: Upstream
) -> None:
    upstream.handler = lambda sent: Response(b"{}", headers={"X-Request-ID": "upstream-own"})
    first = client.get("/api/math/sum")
    second = client.get("/api/math/sum")
    made = [sent.headers["X-Request-ID"] for sent in upstream.requests]
    assert [first.headers.getlist("X-Request-ID"), second.headers.getlist("X-Request-ID")] == [
        [made[0]],
        [made[1]],
    ]
    assert made[0] != made[1] and "upstream-own" not in made


def test_a_valid_request_id_goes_up_and_comes_back_unchanged(
    client: FlaskClient, upstream: Upstream
) -> None:
    response = client.get("/api/entities/1", headers={"X-Request-ID": "req-42"})
    assert upstream.requests[0].headers.getlist("X-Request-ID") == ["req-42"]
    assert response.headers.getlist("X-Request-ID") == ["req-42"]


def test_a_body_of_exactly_the_limit_goes_up_whole(app: Flask, upstream: Upstream) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = app.test_client().post(
        "/api/entities", data=b"x" * 1000, content_type="application/json"
    )
    assert response.status_code == 200
    assert upstream.requests[0].body == b"x" * 1000


# -- pooled keep-alive connections -----------------------------------------------------------

IDEMPOTENT = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]


@pytest.mark.parametrize("method", IDEMPOTENT)
def test_an_idempotent_request_on_a_pooled_connection_found_closed_is_sent_again_once(
    method: str,
) -> None:
    with KeepAliveUpstream(answers_per_connection=1) as upstream:
        client = gateway(upstream.url).test_client()
        assert client.get("/api/entities/1").status_code == 200  # pools connection 1
        response = client.open("/api/entities/2", method=method)
        assert response.status_code == 200
        if method != "HEAD":
            assert response.get_json() == {"data": {"n": 3}}
    assert upstream.received == [
        Received(1, "GET", "/api/entities/1", True),
        Received(1, method, "/api/entities/2", False),  # closed on it
        Received(2, method, "/api/entities/2", True),  # sent again, once
    ]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_post_or_patch_on_a_pooled_connection_found_closed_is_never_sent_again(
    method: str,
) -> None:
    with KeepAliveUpstream(answers_per_connection=1) as upstream:
        client = gateway(upstream.url).test_client()
        assert client.get("/api/entities/1").status_code == 200
        response = client.open("/api/entities/1", method=method, json={"name": "once"})
        assert response.status_code == 502
        assert response.content_type == "application/problem+json"
        time.sleep(0.2)  # a resend would arrive by now
    assert upstream.received == [
        Received(1, "GET", "/api/entities/1", True),
        Received(1, method, "/api/entities/1", False),  # it may have been processed: once
    ]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_connection_the_upstream_closed_while_idle_is_not_used_again(method: str) -> None:
    with KeepAliveUpstream(idle_timeout=0.2) as upstream:
        client = gateway(upstream.url).test_client()
        assert client.get("/api/entities/1").status_code == 200
        assert upstream.closed_idle.wait(5)
        response = client.open("/api/entities", method=method, json={"name": "n"})
        assert response.status_code == 200
    assert upstream.received == [
        Received(1, "GET", "/api/entities/1", True),
        Received(2, method, "/api/entities", True),  # on a new connection, sent once
    ]


def test_pooled_connections_are_reused(upstream: Upstream) -> None:
    with KeepAliveUpstream() as keep_alive:
        client = gateway(keep_alive.url).test_client()
        for n in range(3):
            assert client.get(f"/api/entities/{n}").status_code == 200
    assert [r.connection for r in keep_alive.received] == [1, 1, 1]
