"""The AWS Lambda entry point: ``entity_api.aws_lambda:handler`` (see `core.aws_lambda`).

The app is built on import (the cold start), with a database pool of one
connection; ``DATABASE_URL`` names the database, as for gunicorn.
"""

from core.aws_lambda import lambda_handler
from entity_api import create_app

handler = lambda_handler(create_app)
