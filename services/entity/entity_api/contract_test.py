"""The running entity service against its own swagger JSON (`core.contract`)."""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from schemathesis import GenerationMode

import entity.model  # noqa: F401  (the tables)
from core.auth import DEV_JWT_SECRET, mint_token
from core.contract import MODES, check_contract
from core.testing import running_server
from entity.db import db

TOKEN = mint_token(DEV_JWT_SECRET, "contract", "entity:read entity:write entity:admin")


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[str]:
    engine = sa.create_engine(database_url)
    db.metadata.create_all(engine)  # production tables come from migrations/entity
    engine.dispose()
    env = {"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    with running_server("entity_api", env=env) as url:
        yield url


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_every_operation_honours_its_documentation(server: str, mode: GenerationMode) -> None:
    check_contract(server, mode, headers={"Authorization": f"Bearer {TOKEN}"}, operations=6)
