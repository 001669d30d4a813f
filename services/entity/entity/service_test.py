import pytest
import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy

from core import NotFound, PreconditionFailed
from core.query import Filter, ListQuery

from .model import Entity
from .service import EntityService


@pytest.fixture
def service(db: SQLAlchemy) -> EntityService:
    return EntityService(db.session)


def test_create_read_and_get(service: EntityService) -> None:
    created = service.create({"name": "one", "purpose": "p"}, owner_id="user-1")
    assert (created.name, created.owner_id, created.version) == ("one", "user-1", 1)
    read = service.read(created.id)
    assert read == created  # the same plain row
    found = service.get(created.id)
    assert isinstance(found, Entity)
    assert (found.name, found.purpose, found.owner_id) == ("one", "p", "user-1")


def test_read_and_get_of_unknown_ids_raise_not_found(service: EntityService) -> None:
    with pytest.raises(NotFound, match="Entity 404 does not exist"):
        service.read(404)
    with pytest.raises(NotFound, match="Entity 404 does not exist"):
        service.get(404)


def stored(service: EntityService, attributes: dict[str, str]) -> Entity:
    """A new entity as the object to change."""
    return service.get(service.create(attributes).id)


def test_replace_sets_every_updatable_field(service: EntityService) -> None:
    row = stored(service, {"name": "one", "purpose": "p"})
    before = service.read(row.id)
    service.replace(row, {"name": "two"})
    after = service.read(row.id)
    assert (after.name, after.purpose) == ("two", None)
    assert after.updated_at >= before.updated_at and after.version == 2


def test_patch_sets_only_what_is_given(service: EntityService) -> None:
    row = stored(service, {"name": "one", "purpose": "p"})
    service.patch(row, {"purpose": "q"})
    assert (service.get(row.id).name, service.get(row.id).purpose) == ("one", "q")


def test_delete(service: EntityService) -> None:
    row = stored(service, {"name": "one"})
    service.delete(row)
    with pytest.raises(NotFound):
        service.get(row.id)


def test_a_write_that_lost_a_race_fails_and_changes_nothing(
    service: EntityService, db: SQLAlchemy
) -> None:
    row = stored(service, {"name": "one"})
    # Another writer changes the row after we read it.
    with db.engine.begin() as other:
        other.execute(sa.update(Entity).where(Entity.id == row.id).values(name="theirs", version=2))
    with pytest.raises(PreconditionFailed):
        service.patch(row, {"name": "ours"})
    db.session.expire_all()
    assert service.get(row.id).name == "theirs"


def test_list_filters_sorts_and_pages(service: EntityService) -> None:
    for name in ["b", "a", "c", "a"]:
        service.create({"name": name})
    page = service.list(
        ListQuery(
            page=1,
            page_size=2,
            sort=(("name", True), ("id", False)),
            filters=(Filter("name", "ne", "c"),),
        )
    )
    assert page.total == 3
    assert [e.name for e in page.items] == ["b", "a"]
