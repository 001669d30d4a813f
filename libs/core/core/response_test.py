import pytest
from flask import Flask
from flask.testing import FlaskClient

from core import ApiResponse, Page


def test_single_resource_envelope(app: Flask) -> None:
    with app.test_request_context("/x"):
        response = ApiResponse({"a": 1}, 201, headers={"Location": "/x/1"}).to_response()
    assert response.status_code == 201
    assert response.get_json() == {"data": {"a": 1}}
    assert response.headers["Location"] == "/x/1"
    assert response.content_type == "application/json"


def test_no_content_has_no_body(client: FlaskClient) -> None:
    response = client.delete("/api/notes/1")
    assert response.status_code == 204
    assert response.data == b""


def test_page_envelope_links_and_headers(app: Flask) -> None:
    with app.test_request_context("/api/notes?page=2&pageSize=2&sort=name", base_url="http://h"):
        response = ApiResponse(Page(["c", "d"], page=2, page_size=2, total=5)).to_response()
    body = response.get_json()
    assert body["data"] == ["c", "d"]
    assert body["meta"] == {"page": 2, "pageSize": 2, "total": 5, "totalExact": True}
    base = "http://h/api/notes?sort=name"
    assert body["links"] == {
        "self": f"{base}&page=2&pageSize=2",
        "first": f"{base}&page=1&pageSize=2",
        "prev": f"{base}&page=1&pageSize=2",
        "next": f"{base}&page=3&pageSize=2",
        "last": f"{base}&page=3&pageSize=2",
    }
    assert response.headers["X-Total-Count"] == "5"
    assert response.headers["Link"] == ", ".join(
        f'<{url}>; rel="{rel}"' for rel, url in body["links"].items()
    )


def test_a_keyed_page_links_its_cursors(app: Flask) -> None:
    with app.test_request_context("/api/notes?cursor=c0&sort=name&pageSize=2", base_url="http://h"):
        page = Page(
            ["c"], None, 2, 5, cursor="c0", prev_cursor="c-1", next_cursor="c+1", keyed=True
        )
        response = ApiResponse(page).to_response()
    body = response.get_json()
    assert body["meta"] == {"page": None, "pageSize": 2, "total": 5, "totalExact": True}
    base = "http://h/api/notes?sort=name"
    assert body["links"] == {
        "self": f"{base}&cursor=c0&pageSize=2",
        "first": f"{base}&page=1&pageSize=2",
        "prev": f"{base}&cursor=c-1&pageSize=2",
        "next": f"{base}&cursor=c%2B1&pageSize=2",
        "last": f"{base}&page=3&pageSize=2",
    }


def test_an_estimated_total_has_no_last_page_and_no_total_header(app: Flask) -> None:
    with app.test_request_context("/api/notes", base_url="http://h"):
        page = Page(["a"], 1, 20, 12345, total_exact=False, next_cursor="n", keyed=True)
        response = ApiResponse(page).to_response()
    body = response.get_json()
    assert body["meta"] == {"page": 1, "pageSize": 20, "total": 12345, "totalExact": False}
    assert body["links"]["last"] is None and body["links"]["prev"] is None
    assert body["links"]["next"] == "http://h/api/notes?cursor=n&pageSize=20"
    assert "X-Total-Count" not in response.headers
    assert response.headers["Link"] == (
        '<http://h/api/notes?page=1&pageSize=20>; rel="self", '
        '<http://h/api/notes?page=1&pageSize=20>; rel="first", '
        '<http://h/api/notes?cursor=n&pageSize=20>; rel="next"'
    )


def test_first_and_empty_pages(app: Flask) -> None:
    with app.test_request_context("/api/notes"):
        body = ApiResponse(Page([], page=1, page_size=20, total=0)).to_response().get_json()
    assert body["links"]["prev"] is None and body["links"]["next"] is None
    assert body["links"]["last"].endswith("page=1&pageSize=20")


def test_page_links_without_other_parameters_have_no_stray_separator(app: Flask) -> None:
    with app.test_request_context("/api/notes?page=1", base_url="http://h"):
        response = ApiResponse(Page(["a"], page=1, page_size=20, total=1)).to_response()
    assert response.get_json()["links"]["self"] == "http://h/api/notes?page=1&pageSize=20"


def test_page_links_keep_a_repeated_parameter(app: Flask) -> None:
    with app.test_request_context("/api/notes?search=a&search=b&page=1", base_url="http://h"):
        body = ApiResponse(Page(["a"], page=1, page_size=20, total=1)).to_response().get_json()
    assert body["links"]["self"] == "http://h/api/notes?search=a&search=b&page=1&pageSize=20"


@pytest.mark.parametrize("status", [204, 304])
def test_bodyless_statuses_have_no_body_and_no_media_type(app: Flask, status: int) -> None:
    with app.test_request_context("/x"):
        response = ApiResponse({"ignored": True}, status, headers={"ETag": '"1-1"'}).to_response()
    assert response.status_code == status
    assert response.data == b""
    assert "Content-Type" not in response.headers
    assert response.headers["ETag"] == '"1-1"'
