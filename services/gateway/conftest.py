from collections.abc import Iterator

import pytest

from core.testing import serving
from gateway.testing import Upstream
from gateway_api.app import create_app


@pytest.fixture
def app_factory():  # type: ignore[no-untyped-def]
    return create_app


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """A real HTTP server recording the requests that reach it (`gateway.testing`)."""
    recorder = Upstream()
    with serving(recorder) as url:
        recorder.url = url
        yield recorder
