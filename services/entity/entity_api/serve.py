"""``./pants run services/entity:serve -- [gunicorn options]``."""

from core.serve import serve

PORT = 8001


def main() -> None:
    serve("entity_api.wsgi:app", port=PORT)


if __name__ == "__main__":
    main()
