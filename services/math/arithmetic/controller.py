"""HTTP for arithmetic: parse through the interfaces, call the service, respond."""

from typing import Any

from flask import Flask
from flask_restx import Namespace, Resource

from core import ApiFlask, ApiResponse, accepts_query, responds

from .interfaces import SumArgumentsInterfaces, SumInterfaces
from .service import add

api = Namespace("Math", description="Arithmetic on query parameters", path="/api/math")
sum_arguments = SumArgumentsInterfaces(api)
sum_result = SumInterfaces(api)


@api.route("/sum")
class SumResource(Resource):
    @accepts_query(sum_arguments.query)
    @responds(sum_result.single)
    def get(self, query: dict[str, Any]) -> ApiResponse:
        """Add two integers"""
        return ApiResponse({"result": add(query["a"], query["b"])})


def register_routes(service_api: ApiFlask, app: Flask) -> None:
    """Attach this topic's namespace (``/api/math``) to the service's API."""
    service_api.add_namespace(api)
