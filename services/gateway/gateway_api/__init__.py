"""The gateway: ``create_app`` in `gateway_api.app`, its serve main here.

``./pants run services/gateway:serve -- [gunicorn options]``: gunicorn's gevent
worker (``gevent_pywsgi``: gevent's own HTTP server, which cost the gateway
less per request here than gunicorn's parser), as `core.gevent_worker.PyWSGIWorker`
(gunicorn's limits on heads, problem documents, ``HEAD_TIMEOUT``). The gateway
mostly waits on its upstreams and its clients, and a waiting connection costs
a greenlet (up to ``worker_connections``, 10,000, per worker), not one of a
few threads.

This module imports nothing at import time: gevent must patch the standard
library before anything else loads it (the app is loaded by gunicorn, in
the master, after the patches).
"""


def main() -> None:
    from gevent import monkey

    monkey.patch_all()  # first, once, in the master

    from core.gevent_worker import PyWSGIWorker
    from core.registry import read
    from core.serve import serve
    from deployables import deployables

    port = read(deployables()).gateway.port
    assert port is not None
    serve("gateway_api.app:create_app()", port=port, worker_class=PyWSGIWorker)
