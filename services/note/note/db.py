"""The note service's database handle: a leaf module, imported by the models
(`core.database.service_database`: its own metadata, bound by the app)."""

from core.database import service_database

db = service_database()
