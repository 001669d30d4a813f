"""The WSGI entry point gunicorn imports: ``gateway_api.wsgi:app``."""

from gateway_api.app import create_app

app = create_app()
