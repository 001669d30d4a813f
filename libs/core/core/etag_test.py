import pytest
from flask import Flask

from core import PreconditionFailed
from core.etag import check_preconditions, make_etag, not_modified


def test_make_etag_is_quoted_and_strong() -> None:
    assert make_etag(7, 3) == '"7-3"'


@pytest.mark.parametrize("header", [None, '"7-3"', '"1-1", "7-3"', "*"])
def test_if_match_passes(app: Flask, header: str | None) -> None:
    headers = {"If-Match": header} if header else {}
    with app.test_request_context("/", headers=headers):
        check_preconditions('"7-3"')


@pytest.mark.parametrize("header", ['"7-2"', 'W/"7-3"', '"7"', "", " "])
def test_if_match_fails_with_412(app: Flask, header: str) -> None:
    with (
        app.test_request_context("/", headers={"If-Match": header}),
        pytest.raises(PreconditionFailed),
    ):
        check_preconditions('"7-3"')


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, False), ('"7-3"', True), ('W/"7-3"', True), ("*", True), ('"7-2"', False)],
)
def test_if_none_match(app: Flask, header: str | None, expected: bool) -> None:
    headers = {"If-None-Match": header} if header else {}
    with app.test_request_context("/", headers=headers):
        assert not_modified('"7-3"') is expected


@pytest.mark.parametrize("header", ["*", '"7-3"', 'W/"7-3"'])
def test_if_none_match_on_a_write_to_an_existing_version_is_412(app: Flask, header: str) -> None:
    with (
        app.test_request_context("/", method="PUT", headers={"If-None-Match": header}),
        pytest.raises(PreconditionFailed),
    ):
        check_preconditions('"7-3"')


def test_a_stale_if_match_says_the_resource_changed(app: Flask) -> None:
    with (
        app.test_request_context("/", method="PUT", headers={"If-Match": '"7-2"'}),
        pytest.raises(PreconditionFailed) as failed,
    ):
        check_preconditions('"7-3"')
    assert failed.value.status == 412
    assert failed.value.detail == (
        "The resource has changed since you read it (If-Match names no current ETag)."
    )


def test_if_none_match_on_a_write_says_the_version_exists(app: Flask) -> None:
    with (
        app.test_request_context("/", method="PUT", headers={"If-None-Match": '"7-3"'}),
        pytest.raises(PreconditionFailed) as failed,
    ):
        check_preconditions('"7-3"')
    assert failed.value.detail == "The resource exists in the version If-None-Match names."


@pytest.mark.parametrize("header", ['"7-2"', 'W/"7-2"'])
def test_if_none_match_naming_another_version_lets_a_write_through(app: Flask, header: str) -> None:
    with app.test_request_context("/", method="PUT", headers={"If-None-Match": header}):
        check_preconditions('"7-3"')


def test_an_etag_joins_every_part_of_the_version() -> None:
    assert make_etag("a", 1, "b") == '"a-1-b"'
    assert make_etag(7) == '"7"'
