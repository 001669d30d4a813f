"""``./pants run services/gateway:serve -- [gunicorn options]``.

gunicorn's gevent worker (``gevent_pywsgi``: gevent's own HTTP server, which
cost the gateway less per request here than gunicorn's parser): the gateway
mostly waits on its upstreams, and a waiting request costs a greenlet (up to
``worker_connections``, 1000, per worker), not one of a few threads.
"""

from gevent import monkey

from core.serve import serve

PORT = 8000


def main() -> None:
    monkey.patch_all()  # before the app is loaded, once, in the master
    serve("gateway_api.wsgi:app", port=PORT, worker_class="gevent_pywsgi")


if __name__ == "__main__":
    main()
