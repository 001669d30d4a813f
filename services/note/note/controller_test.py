"""The note contract (DESIGN.md, as for entities), through the real app and database."""

from typing import Any

from flask.testing import FlaskClient

PROBLEM = "application/problem+json"
PATH = "/api/notes"
EXAMPLE: dict[str, Any] = {"entityId": 1, "body": "Example body"}
OTHER: dict[str, Any] = {"entityId": 2, "body": "Other body"}


def create(client: FlaskClient, **body: Any) -> dict[str, Any]:
    response = client.post(PATH, json={**EXAMPLE, **body})
    assert response.status_code == 201, response.get_json()
    data: dict[str, Any] = response.get_json()["data"]
    return data


def test_create_returns_201_location_and_etag(client: FlaskClient) -> None:
    response = client.post(PATH, json=EXAMPLE)
    assert response.status_code == 201
    data = response.get_json()["data"]
    assert {key: data[key] for key in EXAMPLE} == EXAMPLE
    assert data["ownerId"] == "owner-1" and data["createdAt"].endswith("Z")
    assert response.headers["Location"] == f"http://localhost{PATH}/{data['id']}"
    assert response.headers["ETag"] == f'"{data["id"]}-1"'
    assert client.get(response.headers["Location"]).get_json()["data"] == data


def test_an_invalid_body_is_422_and_stores_nothing(client: FlaskClient) -> None:
    for body, pointer in (
        ({"body": "Example body"}, "/entityId"),
        ({"entityId": "x", "body": "Example body"}, "/entityId"),
        ({"entityId": 1}, "/body"),
        ({"entityId": 1, "body": 7}, "/body"),
        ({"entityId": 1, "body": "Example body", "colour": "red"}, "/colour"),
    ):
        response = client.post(PATH, json=body)
        assert response.status_code == 422, body
        assert response.content_type == PROBLEM
        assert pointer in {e["pointer"] for e in response.get_json()["errors"]}, body
    assert client.get(PATH).get_json()["meta"]["total"] == 0


def test_a_body_of_2000_characters_is_stored_and_2001_refused(client: FlaskClient) -> None:
    longest = create(client, body="b" * 2000)
    assert client.get(f"{PATH}/{longest['id']}").get_json()["data"]["body"] == "b" * 2000
    response = client.post(PATH, json={**EXAMPLE, "body": "b" * 2001})
    assert response.status_code == 422
    assert [e["pointer"] for e in response.get_json()["errors"]] == ["/body"]
    assert client.get(PATH).get_json()["meta"]["total"] == 1


def test_a_body_of_2000_wide_characters_is_stored_and_found(client: FlaskClient) -> None:
    # 6,000 bytes of UTF-8: more than a PostgreSQL B-tree index entry may hold.
    body = "書" * 1999 + "ß"
    created = create(client, body=body)
    assert client.get(f"{PATH}/{created['id']}").get_json()["data"]["body"] == body
    found = client.get(PATH, query_string={"search": "書ss", "sort": "body"}).get_json()
    assert [n["id"] for n in found["data"]] == [created["id"]]


def test_get_has_an_etag_and_honours_if_none_match(client: FlaskClient) -> None:
    data = create(client)
    response = client.get(f"{PATH}/{data['id']}")
    etag = response.headers["ETag"]
    cached = client.get(f"{PATH}/{data['id']}", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.data == b""


def test_patch_with_a_stale_if_match_is_412(client: FlaskClient) -> None:
    data = create(client)
    path = f"{PATH}/{data['id']}"
    stale = client.get(path).headers["ETag"]
    changed = client.patch(path, json=OTHER)
    assert changed.status_code == 200 and changed.headers["ETag"] != stale
    late = client.patch(path, json=EXAMPLE, headers={"If-Match": stale})
    assert late.status_code == 412 and late.content_type == PROBLEM
    assert client.get(path).get_json()["data"] == changed.get_json()["data"]


def test_only_the_owner_or_an_admin_may_change_it(client: FlaskClient, auth_headers) -> None:  # type: ignore[no-untyped-def]
    data = create(client)
    path = f"{PATH}/{data['id']}"
    other = auth_headers("someone-else", "note:read note:write")
    refused = client.delete(path, headers=other)
    assert refused.status_code == 403 and refused.content_type == PROBLEM
    assert client.get(path).get_json()["data"] == data  # refused: still there, unchanged
    changed = client.patch(path, json={"body": "Not mine"}, headers=other)
    assert changed.status_code == 403
    assert client.get(path).get_json()["data"] == data
    admin = auth_headers("an-admin", "note:read note:admin")
    deleted = client.delete(path, headers=admin)
    assert deleted.status_code == 204 and deleted.data == b""
    assert client.get(path).status_code == 404
    assert client.get(PATH).get_json()["meta"]["total"] == 0  # the row is gone


def test_unknown_ids_are_404_problems(client: FlaskClient) -> None:
    for path in (f"{PATH}/999", f"{PATH}/99999999999999999999", f"{PATH}/abc"):
        response = client.get(path)
        assert response.status_code == 404 and response.content_type == PROBLEM


def test_lists_filter_and_page(client: FlaskClient) -> None:
    first, second = create(client), create(client, **OTHER)
    body = client.get(f"{PATH}?pageSize=1&sort=-id").get_json()
    assert [row["id"] for row in body["data"]] == [second["id"]]
    assert body["meta"] == {"page": 1, "pageSize": 1, "total": 2, "totalExact": True}
    query = {"filter[entityId]": EXAMPLE["entityId"]}
    found = client.get(PATH, query_string=query).get_json()["data"]
    assert [row["id"] for row in found] == [first["id"]]
    unknown = client.get(f"{PATH}?filter[colour]=red")
    assert unknown.status_code == 400 and unknown.content_type == PROBLEM
    assert unknown.get_json()["errors"][0]["parameter"] == "filter[colour]"


def test_search_needs_every_term(client: FlaskClient) -> None:
    match = create(client, **{"body": "Alpha beta"})
    create(client, **{"body": "Alpha gamma"})
    found = client.get(PATH, query_string={"search": "BETA alpha"}).get_json()
    assert [row["id"] for row in found["data"]] == [match["id"]]
