"""The WSGI entry point gunicorn imports: ``entity_api.wsgi:app``."""

from entity_api.app import create_app

app = create_app()
