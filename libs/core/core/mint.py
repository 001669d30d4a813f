"""``./pants run :token -- --sub alice --scope "entity:read entity:write"``.

Prints a dev token (HS256) signed with ``JWT_SECRET``, or the dev default the
services use outside prod. Production tokens come from the identity provider.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from .auth import DEV_JWT_SECRET, mint_token


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="token", description=__doc__.splitlines()[0])
    parser.add_argument("--sub", default="dev-user", help="subject (the caller's id)")
    parser.add_argument(
        "--scope", default="entity:read entity:write", help="space-separated scopes"
    )
    parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    parser.add_argument("--aud", help="audience claim (when the services check JWT_AUDIENCE)")
    parser.add_argument("--iss", help="issuer claim (when the services check JWT_ISSUER)")
    options = parser.parse_args(argv)
    claims = {k: v for k, v in (("aud", options.aud), ("iss", options.iss)) if v}
    secret = os.environ.get("JWT_SECRET") or DEV_JWT_SECRET
    print(mint_token(secret, options.sub, options.scope, lifetime=options.ttl, **claims))


if __name__ == "__main__":
    main()
