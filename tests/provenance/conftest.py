"""Fixtures for content credentials: a project identity made once, and its signer."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundstage.provenance.credentials import Signer, make_project_identity


@pytest.fixture(scope="session")
def identity(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(signer.pem, signer.key, ca.pem) of a project identity made once for the session."""
    folder = tmp_path_factory.mktemp("identity") / "credentials"
    certificate, key = make_project_identity(folder, "Lantern Keepers Ltd")
    return certificate, key, folder / "ca.pem"


@pytest.fixture(scope="session")
def signer(identity: tuple[Path, Path, Path]) -> Signer:
    """The project signer."""
    return Signer.from_files(identity[0], identity[1])
