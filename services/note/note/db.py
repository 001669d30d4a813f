"""The note service's database handle: a leaf module, imported by the models.

Nothing is connected at import time; the service's app binds it
(`core.service.Service`). ``expire_on_commit=False``: a row just written is
serialized from what the session holds, not reloaded in a second transaction.
"""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
