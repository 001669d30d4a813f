"""Bearer tokens (JWT): verification, scopes, and the decorator that demands them.

Services verify tokens themselves; nothing is trusted from the network.

Keys, from the app's config (each also an environment variable):

- ``JWT_SECRET``: HS256, for dev and tests (a dev default exists outside prod);
- ``JWT_PUBLIC_KEY`` (PEM) or ``JWT_JWKS_URL``: RS256, for production, where
  an identity provider issues the tokens. JWKS keys are cached and fetched
  again when a token names an unknown ``kid`` (at most every
  ``JWT_JWKS_COOLDOWN`` seconds).

Verified tokens are remembered (up to `CACHE_SIZE` of them, each until its
``exp``): a client sends the same token with every request, and checking its
signature each time is most of the cost of a fast request.

A token's ``alg`` picks the key: HS256 only with a secret, RS256 only with a
public key, anything else (``none`` included) is refused, so one kind of key
can never verify the other kind of token. ``exp`` is required; ``exp``,
``nbf`` and ``iat`` are checked with ``JWT_LEEWAY`` seconds of leeway;
``aud`` against ``JWT_AUDIENCE`` and ``iss`` against ``JWT_ISSUER`` when set.

`requires` declares, on a controller method, the scopes it needs (from the
space-separated ``scope`` claim): no or bad token -> 401 with
``WWW-Authenticate: Bearer``; a good token without the scope -> 403. The
operation's security and scopes go into the swagger document.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import jwt
from flask import current_app, g, request

from .config import ENVIRONMENTS, ConfigError
from .decorators import document_errors
from .errors import Forbidden, ServiceUnavailable, Unauthorized
from .interfaces import BaseInterfaces, Shape, namespace_of

__all__ = [
    "DEV_JWT_SECRET",
    "SECURITY_DEFINITIONS",
    "Principal",
    "TokenVerifier",
    "check_auth_config",
    "current_principal",
    "mint_token",
    "requires",
]

DEV_JWT_SECRET = ENVIRONMENTS["dev"]["JWT_SECRET"]
"""The HS256 secret of dev and test when ``JWT_SECRET`` is unset; prod refuses it."""
MIN_SECRET_LENGTH = 32
CACHE_SIZE = 4096
HS_ALGORITHMS = ("HS256",)
RS_ALGORITHMS = ("RS256",)

SECURITY_DEFINITIONS = {
    "Bearer": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "A JWT: enter `Bearer <token>` (mint one with ./pants run :token).",
    }
}

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's subject, its scopes, all of its claims."""

    subject: str
    scopes: frozenset[str]
    claims: Mapping[str, Any] = field(default_factory=dict)

    def has(self, scope: str) -> bool:
        return scope in self.scopes


def _invalid(detail: str) -> Unauthorized:
    return Unauthorized(
        detail,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{detail}"'},
    )


class TokenVerifier:
    """Verifies tokens against the keys the config names."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.secret: str | None = config.get("JWT_SECRET") or None
        self.public_key: str | None = config.get("JWT_PUBLIC_KEY") or None
        jwks_url = config.get("JWT_JWKS_URL") or None
        self.jwks = (
            jwt.PyJWKClient(
                jwks_url,
                cache_keys=True,
                lifespan=float(config.get("JWT_JWKS_LIFESPAN", 300)),
                cooldown_duration=float(config.get("JWT_JWKS_COOLDOWN", 30)),
                timeout=5,
            )
            if jwks_url
            else None
        )
        self.audience: str | None = config.get("JWT_AUDIENCE") or None
        self.issuer: str | None = config.get("JWT_ISSUER") or None
        self.leeway = float(config.get("JWT_LEEWAY", 30))
        # token -> (principal, not before, expires); dict operations are atomic
        # under the GIL, so threads share it without a lock.
        self._verified: dict[str, tuple[Principal, float, float]] = {}

    def _key(self, token: str, algorithm: str) -> Any:
        if algorithm in HS_ALGORITHMS and self.secret:
            return self.secret
        if algorithm in RS_ALGORITHMS and self.public_key:
            return self.public_key
        if algorithm in RS_ALGORITHMS and self.jwks:
            try:
                return self.jwks.get_signing_key_from_jwt(token).key
            except jwt.PyJWKClientConnectionError:  # a subclass: before its base
                raise ServiceUnavailable(
                    "The token issuer's keys cannot be fetched now.",
                    headers={"Retry-After": "5"},
                ) from None
            except jwt.PyJWKClientError:
                raise _invalid("No key of the issuer matches the token.") from None
        # (The token's own alg is not echoed: it is the client's text.)
        raise _invalid("The token's signing algorithm is not accepted.")

    def verify(self, token: str) -> Principal:
        """The token's principal, or `Unauthorized` (401) saying why not."""
        now = time.time()
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, not_before, expires = remembered
            if not_before - self.leeway <= now < expires + self.leeway:  # as PyJWT
                return principal
        principal = self._verify(token)
        if len(self._verified) >= CACHE_SIZE:
            self._verified.clear()
        claims = principal.claims
        self._verified[token] = (principal, float(claims.get("nbf", 0)), float(claims["exp"]))
        return principal

    def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            _check_times(jwt.decode(token, options={"verify_signature": False}))
        except jwt.InvalidTokenError:
            raise _invalid("The token is malformed.") from None
        algorithm = str(header.get("alg", ""))
        key = self._key(token, algorithm)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": self.audience is not None,
                },
            )
        except jwt.ExpiredSignatureError:
            raise _invalid("The token has expired.") from None
        except jwt.ImmatureSignatureError:
            raise _invalid("The token is not valid yet.") from None
        except jwt.InvalidAudienceError:
            raise _invalid("The token is for another audience.") from None
        except jwt.InvalidIssuerError:
            raise _invalid("The token is from another issuer.") from None
        except jwt.InvalidTokenError:
            raise _invalid("The token is invalid.") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise _invalid("The token names no subject.")
        scope = claims.get("scope", "")
        scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
        return Principal(subject, scopes, claims)


TIME_CLAIMS = ("exp", "nbf", "iat")
LATEST = 32503680000  # 3000-01-01T00:00:00Z
"""No time claim may lie beyond this: a later ``exp`` is a token that never expires."""


def _check_times(claims: Mapping[str, Any]) -> None:
    """Refuse time claims that are not NumericDates (RFC 7519 section 2): a
    number of seconds, not text (PyJWT takes ``"123"``), not a boolean, and
    within reason (PyJWT takes ``1e300``, a token that never expires)."""
    for name in TIME_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not 0 <= value <= LATEST
        ):
            raise _invalid(f"The token's {name} is not a time (seconds since 1970).")


def check_auth_config(config: Mapping[str, Any], env: str) -> None:
    """Refuse, in prod, to verify tokens with no key or with a dev secret."""
    secret = config.get("JWT_SECRET")
    if env != "prod":
        return
    if not (secret or config.get("JWT_PUBLIC_KEY") or config.get("JWT_JWKS_URL")):
        raise ConfigError(
            "prod refuses to start with no token key: set JWT_PUBLIC_KEY or JWT_JWKS_URL."
        )
    if secret and (secret == DEV_JWT_SECRET or len(secret) < MIN_SECRET_LENGTH):
        raise ConfigError(
            f"prod refuses the dev JWT_SECRET (or one under {MIN_SECRET_LENGTH} characters)."
        )
    # An identity provider issues tokens for many applications: only those
    # for this API, from that provider, may pass.
    if (config.get("JWT_PUBLIC_KEY") or config.get("JWT_JWKS_URL")) and not (
        config.get("JWT_AUDIENCE") and config.get("JWT_ISSUER")
    ):
        raise ConfigError(
            "prod refuses provider-issued tokens without JWT_AUDIENCE and JWT_ISSUER to check."
        )


def _verifier() -> TokenVerifier:
    verifier = current_app.extensions.get("token_verifier")
    if verifier is None:
        verifier = current_app.extensions["token_verifier"] = TokenVerifier(current_app.config)
    return cast(TokenVerifier, verifier)


def authenticate() -> Principal:
    """The request's principal (401 when the bearer token is missing or bad)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized(
            "This operation needs a bearer token.", headers={"WWW-Authenticate": "Bearer"}
        )
    if scheme.lower() != "bearer" or not token.strip():
        raise _invalid("The Authorization header must be 'Bearer <token>'.")
    principal = _verifier().verify(token.strip())
    g.principal = principal
    return principal


def current_principal() -> Principal:
    """The principal `requires` authenticated for this request."""
    return cast(Principal, g.principal)


def requires(
    target: BaseInterfaces | Shape, *scopes: str, any_of: bool = False
) -> Callable[[F], F]:
    """Demand a bearer token with *scopes* (all of them, or one with ``any_of``),
    on an operation of *target*'s resource (its interfaces, or a shape of them)."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate()
            granted = [s for s in scopes if principal.has(s)]
            if scopes and (not granted if any_of else len(granted) < len(scopes)):
                needed = " ".join(scopes)
                raise Forbidden(
                    f"This operation needs the scope{'s' if len(scopes) > 1 else ''} "
                    f"{(' or ' if any_of else ' and ').join(scopes)}.",
                    headers={
                        "WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{needed}"'
                    },
                )
            return func(*args, **kwargs)

        wordy = (" or " if any_of else " and ").join(scopes)
        documented = namespace_of(target).doc(
            security=[{"Bearer": []}],
            description=f"Requires a bearer token with the scope {wordy}.",
            vendor={"x-required-scopes": list(scopes)},
        )(wrapper)
        return cast(F, document_errors(target, 401, 403)(documented))

    return decorate


def mint_token(
    secret: str,
    subject: str,
    scopes: str | list[str] = "",
    *,
    lifetime: int = 3600,
    **claims: Any,
) -> str:
    """An HS256 token for dev and tests (production tokens come from an issuer)."""
    now = int(time.time())
    scope = scopes if isinstance(scopes, str) else " ".join(scopes)
    payload = {"sub": subject, "scope": scope, "iat": now, "nbf": now, "exp": now + lifetime}
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm="HS256")
