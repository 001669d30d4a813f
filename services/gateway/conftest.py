from collections.abc import Iterator

import pytest

from gateway.testing import Upstream, recording_upstream
from gateway_api.app import create_app


@pytest.fixture
def app_factory():  # type: ignore[no-untyped-def]
    return create_app


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """A real HTTP server recording the requests that reach it (`gateway.testing`)."""
    with recording_upstream() as recorder:
        yield recorder
