"""The entity service's database handle: a leaf module, imported by models.

Nothing is connected at import time; `create_app` binds it to an app.
``expire_on_commit=False``: a row just written is serialized from what the
session holds, not reloaded in a second transaction.
"""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})

# The dev default when DATABASE_URL is unset: a file in the working directory,
# shared by the service and its migrations (migrations/entity).
LOCAL_DATABASE_URL = "sqlite:///entity.db"
