"""``./pants run services/gateway:serve -- [gunicorn options]``.

gunicorn's gevent worker: the gateway mostly waits on its upstreams, and a
waiting request costs a greenlet (up to ``worker_connections``, 1000, per
worker), not one of a few threads.
"""

from core.serve import serve

PORT = 8000


def main() -> None:
    serve("gateway_api.wsgi:app", port=PORT, worker_class="gevent")


if __name__ == "__main__":
    main()
