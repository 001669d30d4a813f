"""The WSGI entry point gunicorn imports: ``math_api.wsgi:app``."""

from math_api.app import create_app

app = create_app()
