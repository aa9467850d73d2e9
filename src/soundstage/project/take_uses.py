"""What takes and the cut's scratch dialogue use of people, worked out from the recipes and the
bible: the guardrails' gates (project/guardrails.py) check these uses against the rule packs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from soundstage.errors import GuardrailError
from soundstage.generate.backend import REFERENCE_PREFIX, Performance, Recipe, take_name
from soundstage.guardrails.model import Alteration, AlterationPurpose, Gives, Records, TakeUse
from soundstage.guardrails.uses import take_use
from soundstage.project import drafts, shotlist
from soundstage.project.production import Context
from soundstage.review.audit import as_utc
from soundstage.script.model import Kind
from soundstage.store.tables import SceneRow, ShotRow, TakeRow


def use_of(
    context: Context, records: Records, shot: str, scene: str, take: str, recipe: Recipe, made_at: datetime | None
) -> TakeUse:
    """What a take uses of people, from its recipe: the characters whose reference sheets
    condition it (their likeness and motion performers), the bible's character models its
    backend loads (its model, or a model file its options name: a LoRA), the names in its
    prompt, the recorded performances it alters (``alteration``), the production's default
    department. Previs renders the artists' blocking and makes no replica (``ai`` False). A
    take makes no sound: scratch dialogue is the cut's (``dialogue_uses``)."""
    policy = context.settings.policy
    referenced = [
        key.removeprefix(REFERENCE_PREFIX).split(":")[0]
        for key in recipe.conditioning
        if key.startswith(REFERENCE_PREFIX)
    ]
    return take_use(
        shot,
        records,
        take=take,
        scene=scene,
        department=policy.default_department,
        made_at=as_utc(made_at) if made_at else None,
        prompt=recipe.prompt,
        watched=policy.names,
        references=referenced,
        loaded=_loaded(recipe),
        alterations=[alteration(performance) for performance in recipe.performances],
        ai=recipe.backend != "previs",
    )


def alteration(performance: Performance) -> Alteration:
    """The change a take makes to a recorded performance. A purpose or part this version does
    not know counts as a change to the performance itself (never excepted): a recipe edited by
    hand must not slip past the alteration rule."""
    purposes, parts = {p.value for p in AlterationPurpose}, {g.value for g in Gives}
    purpose = performance.purpose if performance.purpose in purposes else AlterationPurpose.PERFORMANCE
    gives = performance.gives if performance.gives in parts else Gives.LIKENESS
    note = f"recording {performance.sha256[:12]}"
    return Alteration(performance.performer, AlterationPurpose(purpose), Gives(gives), note)


def _loaded(recipe: Recipe) -> list[str]:
    """The model names a take's backend loads: its model and every text its options hold
    (a LoRA file, an adapter's hub id), however deep."""
    names, pending = [recipe.model], list(recipe.options.values())
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            names.append(value)
        elif isinstance(value, list | tuple):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
    return names


def voice_modelled(context: Context, characters: Sequence[str]) -> list[str]:
    """The characters of ``characters`` whose scratch dialogue the bible has a voice model
    speak (``voice_model``), each once."""
    bible = context.settings.bible.characters
    return [c for c in dict.fromkeys(c.upper() for c in characters) if c in bible and bible[c].voice_model]


def dialogue_uses(
    context: Context, records: Records, spoken: Mapping[str, Sequence[str]], scenes: Mapping[str, str]
) -> list[TakeUse]:
    """What the cut's scratch dialogue uses of people, shot by shot (``spoken``: shot code ->
    the characters whose lines it speaks): lines made by a voice model use the voice
    performer's voice, now (the cut makes them). espeak-ng's lines use nobody."""
    found = []
    for code, characters in spoken.items():
        voiced = voice_modelled(context, characters)
        if voiced:
            found.append(
                take_use(
                    code,
                    records,
                    scene=scenes.get(code, ""),
                    department=context.settings.policy.default_department,
                    voiced=voiced,
                    creative=False,
                )  # fmt: skip
            )
    return found


def shot_scenes(session: Session) -> dict[int, tuple[str, str]]:
    """shot id -> (code, scene number)."""
    rows = session.execute(select(ShotRow.id, ShotRow.code, SceneRow.number).join(SceneRow))
    return {shot_id: (code, number) for shot_id, code, number in rows}


def standing_takes(session: Session, codes: Sequence[str] = ()) -> list[TakeRow]:
    """The take that stands for each shot (``codes``, or every shot): its approved take, else
    its newest, as the cut takes them."""
    wanted = {c.strip().upper() for c in codes}
    shots = shot_scenes(session)
    unknown = sorted(wanted - {code for code, _ in shots.values()})
    if unknown:
        raise GuardrailError(f"no shot {', '.join(unknown)} in this production")
    standing: dict[int, TakeRow] = {}
    for take in session.scalars(select(TakeRow).order_by(TakeRow.number)):
        code = shots.get(take.shot_id, ("", ""))[0]
        if wanted and code not in wanted:
            continue
        current = standing.get(take.shot_id)
        if current is None or not current.approved_by or take.approved_by:
            standing[take.shot_id] = take
    return list(standing.values())


def uses(context: Context, session: Session, records: Records, takes: Sequence[TakeRow]) -> list[TakeUse]:
    """The uses of ``takes``."""
    shots = shot_scenes(session)
    return [standing_use(context, records, *shots[take.shot_id], take) for take in takes]


def standing_use(context: Context, records: Records, code: str, scene: str, take: TakeRow) -> TakeUse:
    """What one stored take of shot ``code`` (in ``scene``) uses."""
    return use_of(context, records, code, scene, take_name(code, take.number), Recipe(**take.recipe), take.created_at)


def speakers(context: Context, codes: Sequence[str] = ()) -> dict[str, list[str]]:
    """Shot code -> the characters whose lines the cut speaks in it, for ``codes`` (or every
    shot): nothing while ``[cut] scratch_dialogue`` is off, or while no character of the bible
    has a voice model (then no line is anybody's voice and the script need not be read)."""
    characters = context.settings.bible.characters.values()
    if not context.settings.cut.scratch_dialogue or not any(entry.voice_model for entry in characters):
        return {}
    script = drafts.latest_script(context)
    if script is None:
        return {}
    speaking = {
        element.line: element.character
        for scene in script.scenes
        for element in scene.elements
        if element.kind in (Kind.DIALOGUE, Kind.LYRICS)
    }
    wanted = {c.strip().upper() for c in codes}
    return {
        shot.code: [speaking[n] for n in shot.lines if n in speaking]
        for shot in shotlist.shots(context)
        if not wanted or shot.code in wanted
    }
