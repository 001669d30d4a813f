"""``./pants run services/math:serve -- [gunicorn options]``."""

from core.serve import serve

PORT = 8002


def main() -> None:
    serve("math_api.wsgi:app", port=PORT)


if __name__ == "__main__":
    main()
