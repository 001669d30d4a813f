"""The servers' own answers, built outside any request (raw-socket tests of
the workers under real gunicorn are the services' ``refusal_test.py``)."""

import orjson
import pytest
from gunicorn.config import Config
from gunicorn.http import errors as http_errors

from core.raw_requests import split_answer
from core.workers import HEAD_TIMEOUT, head_timeout, log_refusal, problem_answer, refusal


def test_a_refusal_is_a_whole_http_answer_with_one_problem_document() -> None:
    request_id, answer = problem_answer(431, "Too many.")
    status, headers, body, after = split_answer(answer)
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert status == 431 and after == b""
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert headers["x-request-id"] == request_id and len(request_id) == 32
    assert orjson.loads(body) == {
        "type": "about:blank",
        "title": "Request Header Fields Too Large",
        "status": 431,
        "detail": "Too many.",
        "requestId": request_id,
    }


def test_a_well_formed_client_request_id_is_kept_and_another_replaced() -> None:
    assert problem_answer(400, "x", "client-id-1")[0] == "client-id-1"
    assert problem_answer(400, "x", "bad id\x00")[0] != "bad id\x00"


@pytest.mark.parametrize(
    ("exc", "status", "detail"),
    [
        (
            http_errors.LimitRequestLine(5000, 4094),
            414,
            "The request line is longer than 4094 bytes.",
        ),
        (http_errors.LimitRequestHeaders("limit request headers fields"), 431, "more than 100"),
        (http_errors.LimitRequestHeaders("limit request headers fields size"), 431, "8190 bytes"),
        (http_errors.InvalidRequestLine("x"), 400, "request line is malformed"),
        (http_errors.InvalidHTTPVersion("x"), 400, "HTTP version"),
        (http_errors.InvalidHeader("CONTENT-LENGTH"), 400, "header field is malformed"),
        (http_errors.InvalidChunkSize("x"), 400, "chunks are malformed"),
        (http_errors.UnsupportedTransferCoding("x"), 501, "transfer coding"),
        (http_errors.InvalidResponseHeader("x"), 500, "could not complete"),
        (RuntimeError("the app's own"), 500, "could not complete"),
    ],
)
def test_each_gunicorn_refusal_has_its_status_and_says_why(
    exc: BaseException, status: int, detail: str
) -> None:
    got, text = refusal(exc, Config())
    assert got == status and detail in text


def test_head_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEAD_TIMEOUT", raising=False)
    assert head_timeout() == HEAD_TIMEOUT == 10
    monkeypatch.setenv("HEAD_TIMEOUT", "2.5")
    assert head_timeout() == 2.5
    for bad in ("0", "-1", "soon"):
        monkeypatch.setenv("HEAD_TIMEOUT", bad)
        with pytest.raises(ValueError):
            head_timeout()


def test_a_refusal_is_logged_once_with_its_request_id_status_and_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING"):
        log_refusal("abc", 431, "Too many.", "10.0.0.7")
    (record,) = caplog.records
    assert record.getMessage() == "request refused by the server: Too many."
    assert (record.request_id, record.status, record.remote_addr) == ("abc", 431, "10.0.0.7")  # type: ignore[attr-defined]
