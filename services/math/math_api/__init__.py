"""The math service, declared (`core.service`): a stateless example of a service on core.

``create_app`` is its app factory (gunicorn loads ``math_api:create_app()``)
and ``main`` its serve main (``./pants run services/math:serve``).
"""

from arithmetic.controller import register_routes
from core.registry import read
from core.service import Service
from deployables import deployables

service = Service(
    read(deployables())["math"],
    title="Math",
    description="Stateless arithmetic.",
    routes=[register_routes],
)
create_app = service.create_app
main = service.main
