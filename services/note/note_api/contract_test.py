"""The running note service against its own swagger JSON (`core.contract`),
with an entity service that knows every entity (so that valid notes are
accepted; what happens otherwise is note/entities_test.py's)."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from schemathesis import GenerationMode

from core.contract import DOCUMENTS, MODES, check_contract
from core.testing import migrate, running_server, server_token, serving

SCOPES = "note:read note:write note:admin entity:read"
TOKEN = server_token("contract", SCOPES)


def every_entity_exists(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"data": {}}']


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[str]:
    migrate(database_url, "note_api")  # its migration line to head
    with serving(every_entity_exists) as entities:
        env = {"DATABASE_URL": database_url, "ENTITY_URL": entities, "LOG_LEVEL": "WARNING"}
        with running_server("note_api", env=env) as url:
            yield url


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_every_operation_honours_its_documentation(
    server: str, mode: GenerationMode, document: str
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    check_contract(server, mode, headers=headers, operations=6, document=document)
