"""Token verification: what is accepted, and every way a hostile token is refused."""

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from core import ServiceUnavailable, Unauthorized
from core.auth import DEV_JWT_SECRET, TokenVerifier, check_auth_config, mint_token
from core.config import ConfigError

SECRET = "s" * 40


def rsa_key() -> tuple[Any, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public.decode()


PRIVATE, PUBLIC = rsa_key()
OTHER_PRIVATE, _ = rsa_key()


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "alice", "scope": "a b", "iat": now, "nbf": now, "exp": now + 60, **extra}


def refused(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthorized) as info:
        verifier.verify(token)
    assert info.value.status == 401
    header = info.value.headers.get("WWW-Authenticate", "")
    assert header.startswith("Bearer")
    return info.value.detail


def test_hs256_with_the_secret() -> None:
    principal = TokenVerifier({"JWT_SECRET": SECRET}).verify(mint_token(SECRET, "alice", "a b"))
    assert principal.subject == "alice"
    assert principal.scopes == {"a", "b"}
    assert principal.has("a") and not principal.has("c")


def test_rs256_with_the_public_key() -> None:
    token = jwt.encode(claims(), PRIVATE, algorithm="RS256")
    assert TokenVerifier({"JWT_PUBLIC_KEY": PUBLIC}).verify(token).subject == "alice"


def _hs(payload: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, secret, algorithm=algorithm)


def _without(claim: str) -> dict[str, Any]:
    return {k: v for k, v in claims().items() if k != claim}


# Each token is made when its test runs (its times are relative to now).
@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda: _hs(claims(exp=int(time.time()) - 120)), "expired"),
        (lambda: _hs(claims(nbf=int(time.time()) + 120)), "not valid yet"),
        (lambda: _hs(claims(), "another-secret-of-enough-length!!"), "invalid"),
        (lambda: _hs(claims(), algorithm="HS512"), "algorithm"),
        (lambda: _hs(_without("exp")), "invalid"),
        (lambda: _hs(_without("sub")), "invalid"),
        (lambda: _hs(claims(sub="")), "subject"),
        (lambda: "not-a-token", "malformed"),
        (lambda: "a.b.c", "malformed"),
        (lambda: "", "malformed"),
    ],
    ids=[
        "expired",
        "not-yet",
        "other-secret",
        "hs512",
        "no-exp",
        "no-sub",
        "empty-sub",
        "not-a-token",
        "three-dots",
        "empty",
    ],
)
def test_hostile_hs_tokens(make: Callable[[], str], why: str) -> None:
    assert why in refused(TokenVerifier({"JWT_SECRET": SECRET}), make())


def _segment(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", ["9999999999", "1", True, 1e300, -1, None, [1], 32503680001])
def test_time_claims_that_are_not_times_are_refused(claim: str, value: Any) -> None:
    token = jwt.encode(claims(**{claim: value}), SECRET, algorithm="HS256")
    assert f"token's {claim} is not a time" in refused(TokenVerifier({"JWT_SECRET": SECRET}), token)


def test_time_claims_as_whole_or_fractional_seconds_are_accepted() -> None:
    now = time.time()
    token = jwt.encode(claims(iat=now, nbf=now, exp=now + 60.5), SECRET, algorithm="HS256")
    assert TokenVerifier({"JWT_SECRET": SECRET}).verify(token).subject == "alice"


def test_a_nan_time_is_refused() -> None:
    header = _segment({"alg": "HS256", "typ": "JWT"})
    now = int(time.time())
    payload = (
        base64.urlsafe_b64encode(f'{{"sub": "alice", "iat": {now}, "exp": NaN}}'.encode())
        .rstrip(b"=")
        .decode()
    )
    signing = f"{header}.{payload}".encode()
    signature = hmac.new(SECRET.encode(), signing, hashlib.sha256).digest()
    token = f"{header}.{payload}." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    assert "exp is not a time" in refused(TokenVerifier({"JWT_SECRET": SECRET}), token)


def test_alg_none_is_refused() -> None:
    token = _segment({"alg": "none", "typ": "JWT"}) + "." + _segment(claims()) + "."
    assert "algorithm" in refused(
        TokenVerifier({"JWT_SECRET": SECRET, "JWT_PUBLIC_KEY": PUBLIC}), token
    )


def test_a_tampered_payload_is_refused() -> None:
    header, _, signature = mint_token(SECRET, "alice", "a").split(".")
    forged = f"{header}.{_segment(claims(sub='admin', scope='entity:admin'))}.{signature}"
    refused(TokenVerifier({"JWT_SECRET": SECRET}), forged)


def test_an_hs_token_signed_with_the_public_key_is_refused() -> None:
    # Algorithm confusion: the public key is public, so an attacker can HMAC with it.
    token = _hmac_with(PUBLIC)
    assert "algorithm" in refused(TokenVerifier({"JWT_PUBLIC_KEY": PUBLIC}), token)


def _hmac_with(key: str) -> str:
    signing_input = _segment({"alg": "HS256", "typ": "JWT"}) + "." + _segment(claims())
    digest = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_an_rs_token_to_an_hs_configuration_is_refused() -> None:
    token = jwt.encode(claims(), PRIVATE, algorithm="RS256")
    assert "algorithm" in refused(TokenVerifier({"JWT_SECRET": SECRET}), token)


def test_an_rs_token_from_another_key_is_refused() -> None:
    token = jwt.encode(claims(), OTHER_PRIVATE, algorithm="RS256")
    refused(TokenVerifier({"JWT_PUBLIC_KEY": PUBLIC}), token)


def test_audience_and_issuer_are_checked_when_configured() -> None:
    verifier = TokenVerifier({"JWT_SECRET": SECRET, "JWT_AUDIENCE": "api", "JWT_ISSUER": "idp"})
    good = jwt.encode(claims(aud="api", iss="idp"), SECRET, algorithm="HS256")
    assert verifier.verify(good).subject == "alice"
    assert "audience" in refused(
        verifier, jwt.encode(claims(aud="web", iss="idp"), SECRET, algorithm="HS256")
    )
    assert "issuer" in refused(
        verifier, jwt.encode(claims(aud="api", iss="evil"), SECRET, algorithm="HS256")
    )
    refused(verifier, jwt.encode(claims(iss="idp"), SECRET, algorithm="HS256"))  # no aud at all


def test_leeway_forgives_a_little_clock_skew() -> None:
    verifier = TokenVerifier({"JWT_SECRET": SECRET, "JWT_LEEWAY": 30})
    skewed = jwt.encode(claims(exp=int(time.time()) - 10), SECRET, algorithm="HS256")
    assert verifier.verify(skewed).subject == "alice"


# -- JWKS --------------------------------------------------------------------------------


class Keys:
    def __init__(self) -> None:
        self.jwks: dict[str, Any] = {"keys": []}
        self.fetches = 0

    def publish(self, private: Any, kid: str) -> None:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
        self.jwks["keys"].append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})


@pytest.fixture
def jwks() -> Iterator[tuple[str, Keys]]:
    keys = Keys()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            keys.fetches += 1
            body = json.dumps(keys.jwks).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", keys
    server.shutdown()


def test_jwks_keys_are_cached_and_refreshed_for_an_unknown_kid(jwks: tuple[str, Keys]) -> None:
    url, keys = jwks
    keys.publish(PRIVATE, "k1")
    verifier = TokenVerifier({"JWT_JWKS_URL": url, "JWT_JWKS_COOLDOWN": 0})
    first = jwt.encode(claims(), PRIVATE, algorithm="RS256", headers={"kid": "k1"})
    assert verifier.verify(first).subject == "alice"
    assert verifier.verify(first).subject == "alice"
    assert keys.fetches == 1  # cached
    keys.publish(OTHER_PRIVATE, "k2")  # the issuer rotates
    rotated = jwt.encode(claims(), OTHER_PRIVATE, algorithm="RS256", headers={"kid": "k2"})
    assert verifier.verify(rotated).subject == "alice"
    assert keys.fetches == 2
    unknown = jwt.encode(claims(), OTHER_PRIVATE, algorithm="RS256", headers={"kid": "k9"})
    assert "key" in refused(verifier, unknown)


def test_jwks_down_is_503_not_500() -> None:
    verifier = TokenVerifier({"JWT_JWKS_URL": "http://127.0.0.1:9/jwks.json"})
    token = jwt.encode(claims(), PRIVATE, algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(ServiceUnavailable):
        verifier.verify(token)


@pytest.mark.parametrize("alg", ["☃", 'HS256" , x="y', "a\r\nSet-Cookie: x=1"])
def test_a_hostile_alg_is_not_echoed(alg: str) -> None:
    token = _segment({"alg": alg, "typ": "JWT"}) + "." + _segment(claims()) + ".c2ln"
    with pytest.raises(Unauthorized) as info:
        TokenVerifier({"JWT_SECRET": SECRET}).verify(token)
    header = info.value.headers["WWW-Authenticate"]
    assert header.isascii() and alg not in header and "\r" not in header


# -- configuration ------------------------------------------------------------------------


def test_prod_refuses_no_key_and_dev_or_short_secrets() -> None:
    with pytest.raises(ConfigError, match="no token key"):
        check_auth_config({}, "prod")
    with pytest.raises(ConfigError, match="dev JWT_SECRET"):
        check_auth_config({"JWT_SECRET": DEV_JWT_SECRET}, "prod")
    with pytest.raises(ConfigError, match="dev JWT_SECRET"):
        check_auth_config({"JWT_SECRET": "short"}, "prod")
    check_auth_config({"JWT_SECRET": SECRET}, "prod")
    with pytest.raises(ConfigError, match="JWT_AUDIENCE and JWT_ISSUER"):
        check_auth_config({"JWT_JWKS_URL": "https://idp.example/jwks"}, "prod")
    check_auth_config(
        {"JWT_JWKS_URL": "https://idp.example/jwks", "JWT_AUDIENCE": "api", "JWT_ISSUER": "idp"},
        "prod",
    )
    check_auth_config({"JWT_SECRET": DEV_JWT_SECRET}, "dev")


def test_the_auth_headers_fixture_signs_with_the_app_secret(app: Flask, auth_headers: Any) -> None:
    header = auth_headers("zoe", "x y", team="blue")["Authorization"]
    scheme, token = header.split(" ")
    principal = TokenVerifier(app.config).verify(token)
    assert scheme == "Bearer"
    assert principal.subject == "zoe" and principal.claims["team"] == "blue"
    assert principal.scopes == frozenset({"x", "y"})


def test_a_remembered_token_still_expires() -> None:
    verifier = TokenVerifier({"JWT_SECRET": SECRET, "JWT_LEEWAY": 0})
    token = jwt.encode(claims(exp=int(time.time()) + 2), SECRET, algorithm="HS256")
    assert verifier.verify(token).subject == "alice"
    assert verifier.verify(token).subject == "alice"  # remembered
    time.sleep(3)
    assert "expired" in refused(verifier, token)


# -- leeway on remembered tokens ---------------------------------------------------------


class Clock:
    """The time as core.auth and PyJWT read it, set by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    import datetime as dt
    from types import SimpleNamespace

    import core.auth

    found = Clock(time.time())

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> "Frozen":
            return cls.fromtimestamp(found.now, tz)

    monkeypatch.setattr(core.auth, "time", SimpleNamespace(time=found.time))
    monkeypatch.setattr(jwt.api_jwt, "datetime", Frozen)
    return found


class CountingVerifier(TokenVerifier):
    """A verifier that counts its full verifications (those not served from memory)."""

    verifications = 0

    def _verify(self, token: str) -> Any:
        self.verifications += 1
        return super()._verify(token)


EXP = 2_000_000_000  # a whole second, so that the boundaries are exact


def test_a_remembered_token_is_accepted_up_to_exp_plus_leeway_and_refused_from_then(
    clock: Clock,
) -> None:
    verifier = CountingVerifier({"JWT_SECRET": SECRET, "JWT_LEEWAY": 30})
    token = jwt.encode(
        {"sub": "alice", "iat": EXP - 100, "nbf": EXP - 100, "exp": EXP}, SECRET, algorithm="HS256"
    )
    clock.now = EXP - 50
    assert verifier.verify(token).subject == "alice"
    for now in (EXP, EXP + 29, EXP + 29.999):  # past exp, within the leeway: from memory
        clock.now = now
        assert verifier.verify(token).subject == "alice", now
    assert verifier.verifications == 1
    for now in (EXP + 30, EXP + 31):  # exp + leeway: what a fresh verification refuses
        clock.now = now
        assert "expired" in refused(verifier, token), now


def test_a_remembered_token_is_refused_when_a_fresh_one_would_be(clock: Clock) -> None:
    # The same instants for a token never seen and one remembered: the same answers.
    token = jwt.encode({"sub": "alice", "nbf": EXP - 100, "exp": EXP}, SECRET, algorithm="HS256")
    remembering = TokenVerifier({"JWT_SECRET": SECRET, "JWT_LEEWAY": 10})
    clock.now = EXP - 1
    remembering.verify(token)
    for now in (EXP + 9, EXP + 9.5, EXP + 10, EXP + 10.5):
        clock.now = now
        fresh = TokenVerifier({"JWT_SECRET": SECRET, "JWT_LEEWAY": 10})
        answers = []
        for verifier in (fresh, remembering):
            try:
                answers.append(verifier.verify(token).subject)
            except Unauthorized as error:
                answers.append(error.detail)
        assert answers[0] == answers[1], now
        assert answers[0] == ("alice" if now < EXP + 10 else "The token has expired."), now


def test_a_token_is_accepted_from_nbf_minus_leeway_remembered_or_not(clock: Clock) -> None:
    verifier = CountingVerifier({"JWT_SECRET": SECRET, "JWT_LEEWAY": 30})
    nbf = EXP - 1000
    token = jwt.encode({"sub": "alice", "nbf": nbf, "exp": EXP}, SECRET, algorithm="HS256")
    clock.now = nbf - 31
    assert "not valid yet" in refused(verifier, token)
    clock.now = nbf - 30
    assert verifier.verify(token).subject == "alice"
    assert verifier.verify(token).subject == "alice"
    assert verifier.verifications == 2  # the refusal, then one verification remembered
    clock.now = nbf - 31  # the clock stepped back: memory does not widen the window
    assert "not valid yet" in refused(verifier, token)
