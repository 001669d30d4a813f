"""The running entity service against its own swagger JSON (`core.contract`)."""

from collections.abc import Iterator

import pytest
from schemathesis import GenerationMode

from core.contract import DOCUMENTS, MODES, check_contract
from core.testing import migrate, running_server, server_token

TOKEN = server_token("contract", "entity:read entity:write entity:admin")


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[str]:
    migrate(database_url, "entity_api")  # its migration line to head
    env = {"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    with running_server("entity_api", env=env) as url:
        yield url


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_every_operation_honours_its_documentation(
    server: str, mode: GenerationMode, document: str
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    check_contract(server, mode, headers=headers, operations=6, document=document)
