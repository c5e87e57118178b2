"""Production keeps the audit log's outside evidence, the keys and the witness's store off
the data directory, and pushes to a witness; development keeps everything under it."""

from __future__ import annotations

from pathlib import Path

import pytest

from contactpoint import config

LAYOUT = (
    "CONTACTPOINT_AUDIT_CHECKPOINT_FILE",
    "CONTACTPOINT_KEK_FILE",
    "CONTACTPOINT_KEK",
    "CONTACTPOINT_AUDIT_SIGNING_KEY_FILE",
    "CONTACTPOINT_WITNESS_DIR",
    "CONTACTPOINT_AUDIT_WITNESS_URL",
)


@pytest.fixture
def production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A production environment laid out as docs/configuration.md says; returns the data
    directory."""
    for name in LAYOUT:
        monkeypatch.delenv(name, raising=False)
    data, apart = tmp_path / "data", tmp_path / "elsewhere"
    monkeypatch.setenv("CONTACTPOINT_ENV", "production")
    monkeypatch.setenv("CONTACTPOINT_DATA_DIR", str(data))
    monkeypatch.setenv("CONTACTPOINT_AUDIT_CHECKPOINT_FILE", str(apart / "checkpoints.jsonl"))
    monkeypatch.setenv("CONTACTPOINT_KEK_FILE", str(apart / "kek.json"))
    monkeypatch.setenv("CONTACTPOINT_AUDIT_WITNESS_URL", "https://witness.example/contactpoint")
    return data


def test_the_production_layout_starts(production: Path) -> None:
    config.check_production_layout()


@pytest.mark.parametrize(
    ("name", "inside"),
    [
        ("CONTACTPOINT_AUDIT_CHECKPOINT_FILE", "audit/checkpoints.jsonl"),
        ("CONTACTPOINT_KEK_FILE", "kek.json"),
        ("CONTACTPOINT_AUDIT_SIGNING_KEY_FILE", "keys/audit.pem"),
        ("CONTACTPOINT_WITNESS_DIR", "witness"),
    ],
)
def test_production_refuses_evidence_or_a_key_inside_the_data_directory(
    production: Path, monkeypatch: pytest.MonkeyPatch, name: str, inside: str
) -> None:
    monkeypatch.setenv(name, str(production / inside))
    with pytest.raises(config.ConfigurationError, match=f"{name} .* is inside CONTACTPOINT_DATA"):
        config.check_production_layout()


def test_a_symlink_into_the_data_directory_is_inside_it(
    production: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (production / "audit").mkdir(parents=True)
    link = tmp_path / "looks-apart"
    link.symlink_to(production / "audit")
    monkeypatch.setenv("CONTACTPOINT_AUDIT_CHECKPOINT_FILE", str(link / "checkpoints.jsonl"))
    with pytest.raises(config.ConfigurationError, match=r"CHECKPOINT_FILE .* is inside"):
        config.check_production_layout()


@pytest.mark.parametrize(
    "name",
    [
        "CONTACTPOINT_AUDIT_CHECKPOINT_FILE",
        "CONTACTPOINT_KEK_FILE",
        "CONTACTPOINT_AUDIT_WITNESS_URL",
    ],
)
def test_production_refuses_the_defaults_and_no_witness(
    production: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.delenv(name)
    with pytest.raises(config.ConfigurationError, match=f"set {name}"):
        config.check_production_layout()


def test_a_keyring_given_inline_needs_no_file(
    production: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONTACTPOINT_KEK_FILE")
    monkeypatch.setenv("CONTACTPOINT_KEK", "{}")
    config.check_production_layout()


def test_development_keeps_everything_under_the_data_directory(
    production: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTACTPOINT_ENV", "development")
    for name in LAYOUT:
        monkeypatch.delenv(name, raising=False)
    config.check_production_layout()
    assert config.audit_checkpoint_file() == production.resolve() / "audit/checkpoints.jsonl"


def test_a_witness_url_must_be_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTACTPOINT_AUDIT_WITNESS_URL", "file:///etc/passwd")
    with pytest.raises(config.ConfigurationError, match="http"):
        config.audit_witness_url()
    monkeypatch.setenv("CONTACTPOINT_AUDIT_WITNESS_URL", "https://witness.example/w/")
    assert config.audit_witness_url() == "https://witness.example/w"
