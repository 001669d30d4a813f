"""The running service against its own swagger JSON, with generated requests.

schemathesis reads ``/swagger`` from the service under gunicorn and, for every
operation, sends requests built from the documented schemas: valid ones (which
must be accepted) and invalid ones. Every response must be documented: status,
media type, headers and body schema; an operation that declares security must
refuse requests without a token. No 5xx, ever.
"""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckFunction

import entity.model  # noqa: F401  (the tables)
from core.auth import DEV_JWT_SECRET, mint_token
from core.testing import running_server
from entity.db import db

EXAMPLES = 100

# Responses with no body carry no media type to check.
NO_BODY = (204, 304)


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[str]:
    engine = sa.create_engine(database_url)
    db.metadata.create_all(engine)  # production tables come from migrations/entity
    engine.dispose()
    with running_server(
        "entity_api", env={"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    ) as url:
        yield url


# Every scope: generated requests reach the code behind the checks (schemathesis
# also sends them without it, and expects the documented 401).
AUTH = {
    "Authorization": "Bearer "
    + mint_token(DEV_JWT_SECRET, "contract", "entity:read entity:write entity:admin")
}


ALWAYS: tuple[CheckFunction, ...] = (
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.ignored_auth,
)


def check(case: Case[Any], mode: GenerationMode) -> None:
    response = case.call(headers=AUTH)
    if response.status_code == 414:
        # gunicorn's request-line limit answers before the app sees the
        # request (negative cases can exceed it): only require it is no 5xx.
        only: list[CheckFunction] = [schemathesis.checks.not_a_server_error]
        case.validate_response(response, checks=only, headers=AUTH)
        return
    checks: list[CheckFunction] = list(ALWAYS)
    if response.status_code not in NO_BODY:  # no body, no media type
        checks.append(schemathesis.checks.content_type_conformance)
    if mode is GenerationMode.POSITIVE:
        # Negative cases are not required to be refused: a query string is
        # text, and a "wrong type" for a list of strings (805 instead of
        # ["805"]) is the same text as a right one. Refusal of bad parameters
        # is tested case by case in entity/controller_test.py.
        checks.append(schemathesis.checks.positive_data_acceptance)
    case.validate_response(response, checks=checks, headers=AUTH)


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_every_operation_honours_its_documentation(server: str, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{server}/swagger")
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) == 6
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Case[Any]) -> None:
            check(case, mode)

        try:
            run()
        except Exception as failure:  # collect every operation's, then fail once
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)
