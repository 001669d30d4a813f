import pytest
from flask import Flask

from core.config import DEFAULT_SECRET_KEY, ConfigError, configure


def make(env: str | None = None, environ: dict[str, str] | None = None, **kwargs) -> Flask:  # type: ignore[no-untyped-def]
    app = Flask(__name__)
    configure(app, env, environ=environ or {}, **kwargs)
    return app


def test_dev_is_the_default_environment() -> None:
    app = make()
    assert app.config["ENV_NAME"] == "dev"
    assert app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY


def test_app_env_selects_the_environment() -> None:
    assert make(environ={"APP_ENV": "test"}).config["TESTING"] is True


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="staging"):
        make("staging")


def test_layers_apply_in_order() -> None:
    app = make(
        "test",
        environ={
            "DATABASE_URL": "sqlite:///env.db",
            "FLASK_PAGE_LIMIT": "50",
            "LOG_LEVEL": "DEBUG",
        },
        defaults={"PAGE_LIMIT": 10, "LOG_LEVEL": "ERROR", "COLOUR": "blue"},
        overrides={"COLOUR": "red"},
        local_database_url="sqlite:///local.db",
    )
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///env.db"  # variable over default
    assert app.config["PAGE_LIMIT"] == 50  # FLASK_ prefix, parsed as JSON
    assert app.config["LOG_LEVEL"] == "DEBUG"  # variable over the test environment's WARNING
    assert app.config["COLOUR"] == "red"  # overrides last


def test_local_database_is_the_default_outside_prod() -> None:
    assert (
        make("dev", local_database_url="sqlite:///local.db").config["SQLALCHEMY_DATABASE_URI"]
        == "sqlite:///local.db"
    )


def test_max_content_length_from_the_environment_is_an_integer() -> None:
    assert make(environ={"MAX_CONTENT_LENGTH": "2048"}).config["MAX_CONTENT_LENGTH"] == 2048


def test_prod_refuses_the_default_secret() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        make("prod")


def test_prod_refuses_to_start_without_its_database() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        make("prod", environ={"SECRET_KEY": "s3cret"}, local_database_url="sqlite:///local.db")


def test_prod_refuses_to_start_without_its_hosts() -> None:
    with pytest.raises(ConfigError, match="^prod refuses to start without ALLOWED_HOSTS"):
        make("prod", environ={"SECRET_KEY": "s3cret", "ALLOWED_HOSTS": ""})


def test_prod_starts_when_configured() -> None:
    app = make(
        "prod",
        environ={
            "SECRET_KEY": "s3cret",
            "DATABASE_URL": "postgresql+psycopg://db/app",
            "ALLOWED_HOSTS": "api.example.com, .Example.org",
        },
        local_database_url="sqlite:///local.db",
    )
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/app"
    assert app.config["ALLOWED_HOSTS"] == ("api.example.com", ".example.org")
    assert not app.config.get("TESTING")


def test_dev_and_test_allow_any_host_unless_told() -> None:
    assert make("dev").config["ALLOWED_HOSTS"] is None
    assert make("test").config["ALLOWED_HOSTS"] is None
    assert make("test", environ={"ALLOWED_HOSTS": "localhost"}).config["ALLOWED_HOSTS"] == (
        "localhost",
    )
