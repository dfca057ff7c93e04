"""Secrets in settings: empty means off, short refuses to start, a credential for someone else's server
keeps its own length."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from priyom_kit.settings import (
    MIN_SECRET_CHARS,
    Credential,
    DatabaseSettings,
    Secret,
    ServiceSettings,
    database_url_field,
)


class Example(BaseModel):
    key: Secret = None
    password: Credential = None


@pytest.mark.parametrize("empty", ["", "   ", SecretStr("")])
def test_empty_is_off(empty: object) -> None:
    assert Example(key=empty, password=empty) == Example()


def test_short_secret_is_refused_long_one_kept() -> None:
    with pytest.raises(ValidationError, match=f"at least {MIN_SECRET_CHARS} characters"):
        Example(key="x" * (MIN_SECRET_CHARS - 1))
    assert Example(key="x" * MIN_SECRET_CHARS).key == SecretStr("x" * MIN_SECRET_CHARS)
    assert Example(password="pa55").password == SecretStr("pa55")  # the mail server's rule, not ours


def test_admin_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIYOM_ADMIN_TOKEN", "")
    assert ServiceSettings().admin_token is None
    monkeypatch.setenv("PRIYOM_ADMIN_TOKEN", "short")
    with pytest.raises(ValidationError):
        ServiceSettings()


def test_a_variable_read_from_its_file(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Docker secrets: NAME_FILE names a file holding NAME's value; its trailing newline is not part of it."""
    token = tmp_path / "admin_token"
    token.write_text("t" * MIN_SECRET_CHARS + "\n")
    url = tmp_path / "amqp_url"
    url.write_text("amqp://priyom:s3cret@rabbitmq:5672/")
    monkeypatch.delenv("PRIYOM_ADMIN_TOKEN", raising=False)
    monkeypatch.delenv("AMQP_URL", raising=False)
    monkeypatch.setenv("PRIYOM_ADMIN_TOKEN_FILE", str(token))
    monkeypatch.setenv("AMQP_URL_FILE", str(url))
    settings = ServiceSettings()
    assert settings.admin_token == SecretStr("t" * MIN_SECRET_CHARS)
    assert settings.amqp_url.get_secret_value() == "amqp://priyom:s3cret@rabbitmq:5672/"


def test_a_file_goes_through_the_same_rules(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    short = tmp_path / "short"
    short.write_text("short\n")
    monkeypatch.delenv("PRIYOM_ADMIN_TOKEN", raising=False)
    monkeypatch.setenv("PRIYOM_ADMIN_TOKEN_FILE", str(short))
    with pytest.raises(ValidationError, match=f"at least {MIN_SECRET_CHARS} characters"):
        ServiceSettings()


def test_both_or_a_missing_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("PRIYOM_ADMIN_TOKEN", "t" * MIN_SECRET_CHARS)
    monkeypatch.setenv("PRIYOM_ADMIN_TOKEN_FILE", str(tmp_path / "token"))
    with pytest.raises(ValueError, match="both PRIYOM_ADMIN_TOKEN and PRIYOM_ADMIN_TOKEN_FILE"):
        ServiceSettings()
    monkeypatch.delenv("PRIYOM_ADMIN_TOKEN")
    with pytest.raises(ValueError, match="PRIYOM_ADMIN_TOKEN_FILE=.*cannot read"):
        ServiceSettings()


def test_a_service_prefix_and_a_shared_alias_both_take_files(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    class Owning(DatabaseSettings):
        model_config = SettingsConfigDict(env_prefix="OWNING_")
        database_url: SecretStr = database_url_field("OWNING_", "sqlite+aiosqlite:///x.db", "test")
        port: int = 1

    secret = tmp_path / "url"
    secret.write_text("postgresql+asyncpg://priyom:pw@postgres/owning\n")
    for name in ("OWNING_DATABASE_URL", "DATABASE_URL", "OWNING_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL_FILE", str(secret))
    assert Owning().database_url.get_secret_value() == "postgresql+asyncpg://priyom:pw@postgres/owning"
    monkeypatch.delenv("DATABASE_URL_FILE")
    monkeypatch.setenv("OWNING_DATABASE_URL_FILE", str(secret))
    port = tmp_path / "port"
    port.write_text("8123")
    monkeypatch.setenv("OWNING_PORT_FILE", str(port))
    assert Owning().database_url.get_secret_value().endswith("/owning")
    assert Owning().port == 8123


def test_a_file_holding_json_is_decoded_like_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """A list or mapping setting (mailboxes, team maps) is JSON in a file as in the variable."""

    class Listing(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="LISTING_")
        names: list[str] = []

    names = tmp_path / "names"
    names.write_text('["a", "b"]\n')
    monkeypatch.setenv("LISTING_NAMES_FILE", str(names))
    assert Listing().names == ["a", "b"]
