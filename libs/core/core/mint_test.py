import time
from typing import Any

import jwt
import pytest

from core.auth import DEV_JWT_SECRET
from core.mint import main


def minted(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    main(list(argv))
    token = capsys.readouterr().out.strip()
    return jwt.decode(token, DEV_JWT_SECRET, algorithms=["HS256"], options={"verify_aud": False})


def test_the_defaults_are_a_dev_user_with_entity_scopes_for_an_hour(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    before = int(time.time())
    claims = minted(capsys)
    assert claims["sub"] == "dev-user"
    assert claims["scope"] == "entity:read entity:write"
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] - claims["iat"] == 3600
    assert "aud" not in claims and "iss" not in claims


def test_subject_scopes_lifetime_audience_and_issuer_are_the_options(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    claims = minted(
        capsys,
        "--sub",
        "alice",
        "--scope",
        "note:read",
        "--ttl",
        "60",
        "--aud",
        "api",
        "--iss",
        "idp",
    )
    assert (claims["sub"], claims["scope"], claims["aud"], claims["iss"]) == (
        "alice",
        "note:read",
        "api",
        "idp",
    )
    assert claims["exp"] - claims["iat"] == 60


def test_jwt_secret_signs_when_it_is_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_SECRET", "s" * 40)
    main([])
    token = capsys.readouterr().out.strip()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, DEV_JWT_SECRET, algorithms=["HS256"])
    assert jwt.decode(token, "s" * 40, algorithms=["HS256"])["sub"] == "dev-user"


def test_a_lifetime_that_is_no_number_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--ttl", "soon"])
    assert exit_.value.code == 2
    assert "invalid int value: 'soon'" in capsys.readouterr().err


def test_help_names_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert text.startswith("usage: token ")
    for words in (
        "--sub SUB subject (the caller's id)",
        "--scope SCOPE space-separated scopes",
        "--ttl TTL lifetime in seconds",
        "--aud AUD audience claim (when the services check JWT_AUDIENCE)",
        "--iss ISS issuer claim (when the services check JWT_ISSUER)",
    ):
        assert words in text
