"""``./pants run services/gateway:serve -- [gunicorn options]``.

Threaded workers with many threads: a request waiting on a slow upstream
holds a thread, not the whole worker.
"""

from core.serve import serve

PORT = 8000
THREADS = 16


def main() -> None:
    serve("gateway_api.wsgi:app", port=PORT, threads=THREADS)


if __name__ == "__main__":
    main()
