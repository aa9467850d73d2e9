"""The production the end-to-end cut tests share."""

from __future__ import annotations

import pytest

from soundstage.project import Production, TakeOptions


@pytest.fixture
def taken(copy_production: Production, monkeypatch: pytest.MonkeyPatch) -> Production:
    """The rendered example (scenes 3 and 4) with a previs take per shot, two on the first, and a crew."""
    for key, value in (("WIDTH", "160"), ("HEIGHT", "90"), ("HEAD_SLATE_S", "0.5")):
        monkeypatch.setenv(f"SOUNDSTAGE_CUT__{key}", value)
    production = Production.open(copy_production.root)  # settings again, with the environment above
    production.queue_missing_takes(requested_by="Ari")
    first = production.shots(scene="3")[0].code
    production.queue_takes(first, TakeOptions(seed=7, requested_by="Ari"))
    production.work(1)
    production.add_user("Sol", "supervisor")
    yield production
    production.close()
