"""How provenance and the cut read and write the time: one reading per cut, in UTC to the
second, written as ISO 8601 with its offset ("2026-03-04T15:30:00+00:00")."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The time now, in UTC to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC to the second. A time without a zone is taken as UTC: that is how the
    store keeps them (SQLite hands back the UTC times it was given without their zone)."""
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    """``moment`` as every credential and report writes a time: ISO 8601 in UTC with its
    offset, to the second."""
    return utc(moment).isoformat(timespec="seconds")
