"""Secrets stay out of the production folder: an encrypted signing key opened with a
passphrase from the environment, a key kept outside the production, and a database password
that ``init --database-url`` never writes into soundstage.toml."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from provenance.material import png_bytes, take
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from soundstage.config import SETTINGS_FILE, load_settings
from soundstage.errors import ConfigError, CredentialsError
from soundstage.project import Production
from soundstage.provenance.credentials import read_credentials, sign_take


def test_init_with_a_passphrase_writes_an_encrypted_key_that_signs_from_outside_the_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOUNDSTAGE_KEY_PASSPHRASE", "lamp oil")
    root = tmp_path / "pilot"
    Production.init(root, title="Pilot").close()
    key = root / "credentials" / "signer.key"
    assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes()
    assert "lamp oil" not in (root / SETTINGS_FILE).read_text()

    # The key leaves the folder people share; the settings name where it went.
    vault = tmp_path / "vault"
    vault.mkdir()
    kept = Path(shutil.move(key, vault / "pilot.key"))
    text = (
        (root / SETTINGS_FILE).read_text().replace('private_key = "credentials/signer.key"', f'private_key = "{kept}"')
    )
    (root / SETTINGS_FILE).write_text(text)
    assert not any(p.name.endswith(".key") for p in root.rglob("*"))
    with Production.open(root) as production:
        signer = production.signer()
    path = tmp_path / "take.png"
    path.write_bytes(sign_take(png_bytes(1), take("generated"), signer))
    assert read_credentials(path, trust_anchors=root / "credentials" / "ca.pem").trusted

    monkeypatch.delenv("SOUNDSTAGE_KEY_PASSPHRASE")
    with Production.open(root) as production, pytest.raises(CredentialsError, match=r"pilot\.key: .*encrypted"):
        production.signer()
    monkeypatch.setenv("SOUNDSTAGE_KEY_PASSPHRASE", "whale oil")
    with Production.open(root) as production, pytest.raises(CredentialsError, match="does not open this key"):
        production.signer()


def test_secrets_are_refused_in_the_settings_file_and_typed_as_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "pilot"
    Production.init(root).close()
    settings_file = root / SETTINGS_FILE
    original = settings_file.read_text()
    for key, variable in (
        ("database_password", "SOUNDSTAGE_DATABASE_PASSWORD"),
        ("key_passphrase", "SOUNDSTAGE_KEY_PASSPHRASE"),
    ):
        settings_file.write_text(f'{key} = "hunter2"\n' + original)
        with pytest.raises(ConfigError, match=rf"soundstage.toml: {key}: .*set {variable} instead") as caught:
            load_settings(root)
        assert "hunter2" not in str(caught.value)
    settings_file.write_text(original)
    monkeypatch.setenv("SOUNDSTAGE_DATABASE_PASSWORD", "hunter2")
    settings = load_settings(root)
    assert isinstance(settings.database_password, SecretStr)
    assert "hunter2" not in repr(settings) and "hunter2" not in settings.model_dump_json()


@pytest.mark.postgres
def test_init_with_a_database_url_keeps_the_password_out_of_the_settings(
    tmp_path: Path, cli, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from postgres import create_schema

    url = create_schema(postgres_url)
    password = make_url(url).password
    assert password
    root = tmp_path / "team"
    result = cli("init", root, "--database-url", url)
    assert result.code == 0 and "SOUNDSTAGE_DATABASE_PASSWORD" in result.out
    text = (root / SETTINGS_FILE).read_text()
    assert password not in text
    written = make_url(tomllib.loads(text)["database_url"])
    assert written.password is None and written.username == make_url(url).username
    assert written.query == make_url(url).query  # the rest of the address is kept as given

    # Without ~/.pgpass or the environment the database refuses, in one line that names no secret.
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    result = cli("-p", root, "shots")
    assert result.code == 2 and result.err.count("\n") == 1 and password not in result.err
    # From the environment (a secret in settings) it opens.
    monkeypatch.setenv("SOUNDSTAGE_DATABASE_PASSWORD", password)
    with Production.open(root) as production:
        assert production.settings.database_password.get_secret_value() == password
        assert production.engine.dialect.name == "postgresql" and production.scene_numbers() == []
