"""A bucket production with no credentials in the environment, or half a key: one line that says
so and how to give them, not the client's error about the EC2 instance metadata service."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from .conftest import S3Service, use_bucket_settings
from conftest import EXAMPLE

NO_CREDENTIALS = (
    "no credentials for the bucket: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    " (and AWS_SESSION_TOKEN for temporary ones) in the environment"
)


def _closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key in the environment; the client's last resort, the instance metadata service, moved
    to a closed loopback port: refused at once on any machine, as off EC2 (where the real address
    is refused, times out or is unroutable, depending on the network)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_METADATA_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")


def test_init_and_open_without_credentials_say_how_to_give_them(
    s3_service: S3Service, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3_service.bucket()
    url = f"s3://{bucket}/pilot"
    use_bucket_settings(monkeypatch, url, s3_service.endpoint)
    root = tmp_path / "pilot"
    assert cli("init", root).code == 0  # with the session's keys
    files = sorted(p.relative_to(root) for p in root.rglob("*"))
    keys = s3_service.keys(bucket)

    _no_credentials(monkeypatch)
    line = f"error: media bucket {url} cannot be read: {NO_CREDENTIALS}"
    result = cli("init", tmp_path / "second")
    assert (result.code, result.out, result.err.strip()) == (2, "", line)
    assert not (tmp_path / "second").exists()
    for command in (("import", EXAMPLE), ("shots",)):
        result = cli("-p", root, *command)
        assert (result.code, result.err.strip()) == (2, line)
        assert "169.254" not in result.err and "metadata" not in result.err
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == files
    assert s3_service.keys(bucket) == keys


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both"),
        ("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both"),
    ],
)
def test_half_a_key_names_the_missing_half(
    s3_service: S3Service, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch, given: str, said: str
) -> None:
    url = f"s3://{s3_service.bucket()}/pilot"
    use_bucket_settings(monkeypatch, url, s3_service.endpoint)
    _no_credentials(monkeypatch)
    monkeypatch.setenv(given, "soundstage-test")
    result = cli("init", tmp_path / "pilot")
    assert (result.code, result.err.strip()) == (2, f"error: media url {url}: {said}")
    assert not (tmp_path / "pilot").exists()
