"""What a take uses of people, worked out from what the project already knows about it: the
characters whose reference sheets condition it, the characters whose lines a voice model
speaks, the models of performers its backend loads, and its prompt.

A character's reference sheet carries the likeness (and, where cast, the motion) of the
performer cast for it; so does a model the bible lists as made from them (a LoRA, a
fine-tuned checkpoint) when the backend loads it, and a loaded voice model carries the voice.
Scratch dialogue made by a voice model carries the voice of the character's voice performer.
(espeak-ng scratch dialogue is rule-based synthesis that models no one's voice, so it is no use
of anybody.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from soundstage.guardrails.model import Alteration, Gives, PerformerUse, Records, TakeUse, unique
from soundstage.guardrails.names import people_named


def take_use(
    shot: str,
    records: Records,
    *,
    take: str = "",
    scene: str = "",
    department: str = "",
    made_at: datetime | None = None,
    prompt: str = "",
    watched: Iterable[str] = (),
    references: Iterable[str] = (),
    voiced: Iterable[str] = (),
    models: Iterable[PerformerUse] = (),
    loaded: Iterable[str] = (),
    alterations: Iterable[Alteration] = (),
    ai: bool = True,
    creative: bool = True,
    realistic: bool = False,
    real_time: bool = False,
    credentials: bool = True,
    upstream_marks_stripped: bool = False,
) -> TakeUse:
    """The ``TakeUse`` of a take of ``shot``.

    ``references``: characters whose reference sheets condition the take (their likeness and
    motion performers are used). ``voiced``: characters whose lines a voice model speaks in
    it (their voice performers are used). ``models``: performers whose likeness or voice model
    the backend loads directly. ``loaded``: the model names the backend loads (its model, the
    model files its options name), matched against the bible's models and voice models of
    each character (``model_uses``). ``prompt`` is searched for the performers' names and the
    ``watched`` names. The other flags pass through to the TakeUse (see there). A character
    nobody is cast for uses nobody."""
    uses: list[PerformerUse] = []
    for character in unique(references):
        casting = records.casting_of(character)
        if casting is None:
            continue
        for gives in (Gives.LIKENESS, Gives.MOTION):
            if performer := casting.performer_for(gives):
                uses.append(PerformerUse(performer, gives, casting.character, "reference sheet"))
    outputs = {Gives.LIKENESS}
    for character in unique(voiced):
        outputs.add(Gives.VOICE)
        casting = records.casting_of(character)
        if casting is not None and casting.voice:
            model = f"voice model {casting.voice_model}" if casting.voice_model else "voice model"
            uses.append(PerformerUse(casting.voice, Gives.VOICE, casting.character, f"{model} (scratch dialogue)"))
    for use in (*models, *model_uses(loaded, records)):
        if use.gives == Gives.VOICE:
            outputs.add(Gives.VOICE)
        uses.append(use if use.via else replace(use, via="model"))
    return TakeUse(
        shot=shot,
        take=take,
        scene=scene,
        department=department,
        made_at=made_at,
        prompt=prompt,
        performers=tuple(dict.fromkeys(uses)),
        named=people_named(prompt, records.performers, watched),
        alterations=tuple(alterations),
        outputs=frozenset(outputs),
        ai=ai,
        creative=creative,
        realistic=realistic,
        real_time=real_time,
        credentials=credentials,
        upstream_marks_stripped=upstream_marks_stripped,
    )


def model_uses(loaded: Iterable[str], records: Records) -> list[PerformerUse]:
    """The performers whose models are among ``loaded`` (model names as a recipe gives them):
    a character's ``models`` carry its likeness and motion performers, its ``voice_model`` its
    voice performer. Names are compared exactly, after trimming spaces and a trailing slash."""
    wanted = {_model_key(name) for name in loaded if isinstance(name, str) and name.strip()}
    uses: list[PerformerUse] = []
    for casting in records.casting:
        for model in casting.models:
            if _model_key(model) in wanted:
                for gives in (Gives.LIKENESS, Gives.MOTION):
                    if performer := casting.performer_for(gives):
                        uses.append(PerformerUse(performer, gives, casting.character, f"model {model}"))
        if casting.voice and casting.voice_model and _model_key(casting.voice_model) in wanted:
            uses.append(
                PerformerUse(casting.voice, Gives.VOICE, casting.character, f"voice model {casting.voice_model}")
            )
    return uses


def _model_key(name: str) -> str:
    return name.strip().rstrip("/")


def human_role(use: PerformerUse, records: Records) -> bool:
    """Whether the character of ``use`` is human (an uncast or unnamed character counts as
    human: the agreements exclude only non-human characters)."""
    casting = records.casting_of(use.character) if use.character else None
    return casting is None or casting.human
