"""The entity service's database handle: a leaf module, imported by models.

Nothing is connected at import time; `create_app` binds it to an app.
``expire_on_commit=False``: a row just written is serialized from what the
session holds, not reloaded in a second transaction.
"""

import os

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def local_database_url() -> str:
    """The dev database when ``DATABASE_URL`` is unset: ``entity.db`` in the
    working directory (the repository root under ``./pants run``), shared by
    the service and its migrations. Absolute, because Flask-SQLAlchemy would
    put a relative SQLite path in the app's instance folder."""
    return "sqlite:///" + os.path.join(os.getcwd(), "entity.db")
