import pytest
from flask.testing import FlaskClient


def test_sum(client: FlaskClient) -> None:
    response = client.get("/api/math/sum?a=1&b=2")
    assert response.status_code == 200
    assert response.get_json() == {"data": {"result": 3}}


@pytest.mark.parametrize(
    ("a", "b", "result"),
    [("-4", "1", -3), ("+7", "0", 7), ("9007199254740991", "9007199254740991", 18014398509481982)],
)
def test_sum_of_edge_values(client: FlaskClient, a: str, b: str, result: int) -> None:
    assert (
        client.get("/api/math/sum", query_string={"a": a, "b": b}).get_json()["data"]["result"]
        == result
    )


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("b=2", "a"),
        ("a=1", "b"),
        ("a=x&b=2", "a"),
        ("a=1&b=2.5", "b"),
        ("a=1e3&b=2", "a"),
        ("a=&b=2", "a"),
        ("a=1_000&b=2", "a"),
        ("a=1&b=9007199254740992", "b"),
        ("a=" + "9" * 5000 + "&b=1", "a"),
        ("a=1&a=2&b=3", "a"),
        ("a=1&b=2&c=3", "c"),
    ],
)
def test_bad_arguments_are_400_naming_the_parameter(
    client: FlaskClient, query: str, parameter: str
) -> None:
    response = client.get(f"/api/math/sum?{query}")
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 400
    assert f"'{parameter}'" in problem["detail"]
    assert problem["errors"][0]["parameter"] == parameter


def test_sum_is_documented_with_required_integer_parameters(client: FlaskClient) -> None:
    operation = client.get("/swagger").get_json()["paths"]["/api/math/sum"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    for name in "ab":
        assert params[name]["in"] == "query"
        assert params[name]["type"] == "integer"
        assert params[name]["required"] is True
    assert operation["responses"]["200"]["schema"] == {"$ref": "#/definitions/SumResponse"}
    assert operation["responses"]["400"]["schema"] == {"$ref": "#/definitions/Problem"}


def test_other_methods_are_405(client: FlaskClient) -> None:
    assert client.post("/api/math/sum?a=1&b=2").status_code == 405
