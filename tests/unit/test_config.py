"""Secrets from the environment or a *_FILE; placeholders refused outside development."""

from __future__ import annotations

from pathlib import Path

import pytest

from contactpoint import config
from contactpoint.keystore import provider
from contactpoint.keystore.index_key import _parse as parse_index_key


def test_a_secret_comes_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret"
    path.write_text("s3cr3t-value\n")
    monkeypatch.setenv("CONTACTPOINT_SECRET_KEY_FILE", str(path))
    monkeypatch.delenv("CONTACTPOINT_SECRET_KEY", raising=False)
    assert config.secret("CONTACTPOINT_SECRET_KEY") == "s3cr3t-value"


def test_setting_a_secret_twice_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTACTPOINT_SECRET_KEY", "a")
    monkeypatch.setenv("CONTACTPOINT_SECRET_KEY_FILE", str(tmp_path / "b"))
    with pytest.raises(config.ConfigurationError, match="not both"):
        config.secret("CONTACTPOINT_SECRET_KEY")


def test_an_unreadable_secret_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONTACTPOINT_SECRET_KEY", raising=False)
    monkeypatch.setenv("CONTACTPOINT_SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(config.ConfigurationError, match="cannot be read"):
        config.secret("CONTACTPOINT_SECRET_KEY")


@pytest.mark.parametrize("value", [None, "", "changeme", "django-insecure-abc"])
def test_production_refuses_missing_and_placeholder_secrets(
    value: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTACTPOINT_ENV", "production")
    with pytest.raises(config.ConfigurationError, match="missing or a placeholder"):
        config.require_real_secret("CONTACTPOINT_SECRET_KEY", value)


def test_production_refuses_a_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTACTPOINT_ENV", "production")
    with pytest.raises(config.ConfigurationError, match="shorter than 32"):
        config.require_real_secret("CONTACTPOINT_SECRET_KEY", "a" * 31)
    assert config.require_real_secret("CONTACTPOINT_SECRET_KEY", "a" * 32) == "a" * 32


def test_development_accepts_demo_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTACTPOINT_ENV", "development")
    assert config.require_real_secret("X", None) is None


def test_an_unknown_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTACTPOINT_ENV", "staging-ish")
    with pytest.raises(config.ConfigurationError, match="CONTACTPOINT_ENV"):
        config.environment()


def test_production_refuses_a_demo_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "demo-kek.json"
    provider.create_demo_keyring(path)
    monkeypatch.setenv("CONTACTPOINT_ENV", "production")
    with pytest.raises(config.ConfigurationError, match="demo keyring"):
        provider.FileKeyProvider(path)


def test_production_refuses_a_demo_index_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contactpoint.keystore.index_key import create_demo_index_key

    path = tmp_path / "demo-index.json"
    create_demo_index_key(path)
    monkeypatch.setenv("CONTACTPOINT_ENV", "production")
    with pytest.raises(config.ConfigurationError, match="demo key"):
        parse_index_key(path.read_text(), str(path))


def test_a_malformed_keyring_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    path.write_text(
        '{"format": "contactpoint-keyring/1", "active": "k", "keys": {"k": "c2hvcnQ="}}'
    )
    with pytest.raises(config.ConfigurationError, match="not 256 bits") as caught:
        provider.FileKeyProvider(path)
    assert "c2hvcnQ" not in str(caught.value)


def test_a_missing_keyring_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigurationError, match="contactpoint init"):
        provider.FileKeyProvider(tmp_path / "nope.json")


def test_keyring_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    provider.create_demo_keyring(path)
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_linkage_memory_limit_is_a_size_or_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTACTPOINT_LINKAGE_MEMORY", raising=False)
    assert config.linkage_memory() is None
    monkeypatch.setenv("CONTACTPOINT_LINKAGE_MEMORY", "12GB")
    assert config.linkage_memory() == "12GB"
    for wrong in ("12", "lots", "12GB; SET threads=64", "-1GB"):
        monkeypatch.setenv("CONTACTPOINT_LINKAGE_MEMORY", wrong)
        with pytest.raises(config.ConfigurationError, match="must be a size such as 12GB"):
            config.linkage_memory()


def test_duckdb_takes_the_linkage_memory_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.conf import settings

    from contactpoint.linkage.training import connect

    monkeypatch.setattr(settings, "LINKAGE_MEMORY", "300MiB")
    limit = connect().execute("SELECT current_setting('memory_limit')").fetchone()
    assert limit is not None and limit[0] in {"300.0 MiB", "314.5 MB"}
