"""Contract tests: a running service against its own swagger document.

`check_contract` has schemathesis read a document from the service
(``/swagger``, Swagger 2.0, or ``/openapi.json``, OpenAPI 3.1: `DOCUMENTS`) and, for
every operation, send requests built from the documented schemas: valid ones
(which must be accepted) and invalid ones. Every response must be
documented: status, media type, headers and body schema; an operation that
declares security must refuse requests without a token. No 5xx, ever. For a
service's ``contract_test.py``, with the service under real gunicorn.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckFunction

from . import docs

__all__ = ["DOCUMENTS", "MODES", "check_contract"]

DOCUMENTS = list(docs.DOCUMENTS.values())
"""A service's two documents (`core.docs`): parametrize over these too."""

MODES = list(GenerationMode)
"""Positive (valid) and negative (invalid) requests: parametrize over these."""

# Responses with no body carry no media type to check.
NO_BODY = (204, 304)

ALWAYS: tuple[CheckFunction, ...] = (
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.ignored_auth,
)


def _check(case: Case[Any], mode: GenerationMode, headers: Mapping[str, str]) -> None:
    response = case.call(headers=dict(headers))
    if response.status_code == 414:
        # gunicorn's request-line limit answers before the app sees the
        # request (negative cases can exceed it): only require it is no 5xx.
        only: list[CheckFunction] = [schemathesis.checks.not_a_server_error]
        case.validate_response(response, checks=only, headers=dict(headers))
        return
    checks: list[CheckFunction] = list(ALWAYS)
    if response.status_code not in NO_BODY:
        checks.append(schemathesis.checks.content_type_conformance)
    # A list's cursor is valid only when the list made it (`core.cursor`): no
    # schema can generate one, so a case with a cursor may be refused. Its
    # answers are still checked against the document, as every answer is.
    made_by_the_service = "cursor" in (case.query or {})
    if mode is GenerationMode.POSITIVE and not made_by_the_service:
        # Negative cases are not required to be refused: a query string is
        # text, and a "wrong type" for a list of strings (805 instead of
        # ["805"]) is the same text as a right one. Refusal of bad parameters
        # is tested case by case in each resource's controller tests.
        checks.append(schemathesis.checks.positive_data_acceptance)
    case.validate_response(response, checks=checks, headers=dict(headers))


def check_contract(
    url: str,
    mode: GenerationMode,
    *,
    headers: Mapping[str, str],
    operations: int,
    examples: int = 100,
    document: str = "/swagger",
) -> None:
    """Run *examples* generated requests of *mode* per operation of the service
    at *url*, from its *document* (with *headers*: a token with every scope, so that the requests
    reach the code behind the checks; schemathesis also sends them without).
    *operations* is how many the document must have. Fails once, listing
    every operation's failure."""
    schema = schemathesis.openapi.from_url(f"{url}{document}")
    found = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(found) == operations, [operation.label for operation in found]
    failures = []
    for operation in found:

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            # The same examples every run: a failure in CI is one that can be
            # run again, not luck.
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Case[Any]) -> None:
            _check(case, mode, headers)

        try:
            run()
        except Exception as failure:  # collect every operation's, then fail once
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)
