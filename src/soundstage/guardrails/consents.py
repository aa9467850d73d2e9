"""Whether a consent holds for a use: the scope text, the signing date against the use,
expiry, revocation and suspension at the time of the check, the project, the scenes, the
signer and flags a rule asks for, and the document's hash as the caller reads it now; and
the validation of a consent as it is recorded."""

from __future__ import annotations

from datetime import date
from typing import Any

from soundstage.errors import GuardrailError
from soundstage.guardrails.items import Evaluation
from soundstage.guardrails.model import Consent, ConsentState, Records, ReplicaKind, Signer, TakeUse


def _use_date(take: TakeUse, ctx: Evaluation) -> date:
    return (take.made_at or ctx.as_of).date()


def _problems(consent: Consent, ctx: Evaluation, use_date: date, scene: str, params: Any) -> list[str]:
    """Why ``consent`` does not hold for a use on ``use_date`` in ``scene`` at ``ctx.as_of``."""
    problems = []
    if consent.project != ctx.policy.project:
        problems.append(f"is for project {consent.project!r}, not {ctx.policy.project!r}")
    if not consent.scope.strip():
        problems.append("has no scope (no description of the use)")
    if consent.signed > use_date:
        problems.append(f"was signed {consent.signed}, after the use on {use_date}")
    if consent.expires is not None and consent.expires < ctx.as_of.date():
        problems.append(f"expired on {consent.expires}")
    state, event = consent.state(ctx.as_of)
    if state is not ConsentState.ACTIVE and event is not None:
        why = f" ({event.reason})" if event.reason else ""
        verb = "was revoked on" if state is ConsentState.REVOKED else "is suspended since"
        problems.append(f"{verb} {event.at:%Y-%m-%d} by {event.by}{why}")
    now = ctx.records.documents.get(consent.id)
    if now is None:
        problems.append("has no signed document in the media store")
    elif now != consent.document_sha256:
        problems.append(f"document changed: sha256 {consent.document_sha256[:12]} recorded, {now[:12]} now")
    if consent.scenes and scene and scene not in consent.scenes:
        problems.append(f"covers scenes {', '.join(consent.scenes)}, not scene {scene}")
    signers = getattr(params, "signers", None)
    if signers and consent.signer not in signers:
        wanted = " or ".join(sorted(signers))
        problems.append(
            f"is signed by the {'performer' if consent.signer == Signer.SELF else consent.signer}, not the {wanted}"
        )
    if getattr(params, "name_in_prompt", False) and not consent.name_in_prompt:
        problems.append("does not allow prompts to name the performer")
    if getattr(params, "real_time", False) and consent.real_time is not True:
        problems.append("does not allow real-time use")
    if getattr(params, "real_time_stated", False) and consent.real_time is None:
        problems.append("does not say whether real-time use is allowed")
    return problems


def consent_for(
    performer: str, kinds: frozenset[ReplicaKind] | None, take: TakeUse, ctx: Evaluation, params: Any
) -> tuple[Consent | None, str]:
    """The consent a use relies on and "", or None and why no consent holds."""
    consents = ctx.records.consents_of(performer)
    candidates = [c for c in consents if kinds is None or c.kind in kinds]
    wanted = f"{'/'.join(sorted(kinds))} " if kinds else ""
    if not candidates:
        others = sorted({str(c.kind) for c in consents})
        only = f" (only {', '.join(others)})" if others else ""
        return None, f"no {wanted}consent is recorded{only}"
    checked = [(c, _problems(c, ctx, _use_date(take, ctx), take.scene, params)) for c in candidates]
    for consent, problems in checked:
        if not problems:
            return consent, ""
    # Explain with this project's newest consent (candidates are newest first).
    consent, problems = min(checked, key=lambda cp: cp[0].project != ctx.policy.project)
    return None, f"consent {consent.id} " + "; ".join(problems)


def validate_consent(consent: Consent, records: Records, today: date) -> None:
    """Refuse a consent as it is recorded (``soundstage consent add``): an unknown performer,
    no scope, a synthetic performer (nobody to consent), a signing date in the future, an
    expiry before signing, or a document hash that is not a sha256. One GuardrailError line."""
    what = f"consent {consent.id} for {consent.performer}"
    performer = records.performer(consent.performer)
    if performer is None:
        known = ", ".join(p.name for p in records.performers) or "none"
        raise GuardrailError(f"{what}: unknown performer (performers: {known})")
    if performer.synthetic:
        raise GuardrailError(f"{what}: {performer.name} is a synthetic performer; nobody can consent for them")
    if not consent.scope.strip():
        raise GuardrailError(f"{what}: a scope (a reasonably specific description of the use) is required")
    if not consent.project.strip():
        raise GuardrailError(f"{what}: name the project the consent is for")
    if consent.signed > today:
        raise GuardrailError(f"{what}: signed {consent.signed}, which is in the future")
    if consent.expires is not None and consent.expires < consent.signed:
        raise GuardrailError(f"{what}: expires {consent.expires}, before it was signed on {consent.signed}")
    digest = consent.document_sha256
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise GuardrailError(f"{what}: the document's sha256 must be 64 lower-case hex digits")
