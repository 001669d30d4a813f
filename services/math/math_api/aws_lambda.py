"""The AWS Lambda entry point: ``math_api.aws_lambda:handler`` (see `core.aws_lambda`).

The app is built on import (the cold start) and serves every invocation.
"""

from core.aws_lambda import lambda_handler
from math_api import create_app

handler = lambda_handler(create_app)
