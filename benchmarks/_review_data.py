"""A big production for the review room's load benchmark: thousands of shots and takes, made in
seconds by bulk inserts rather than by planning and rendering.

The scenes come from importing a generated Fountain script (the real import path); shots,
takes, findings and notes are inserted in bulk through SQLAlchemy Core, each row valid for the
models the app reads (a shot's ``planned`` is a ``plan.model.Shot``, a take's ``recipe`` a
``generate.backend.Recipe``). Every take's output is one of a few real PNGs in the media store,
so the app's media route serves real images. People are added through ``Production.add_user``
(audited) and given API tokens through the review room's own token mechanism.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from soundstage.generate.backend import Recipe
from soundstage.plan.model import Purpose, Shot, ShotSize, shot_code
from soundstage.project import Production
from soundstage.render.previs import to_png
from soundstage.review.workflow import Status
from soundstage.store.db import session_scope
from soundstage.store.tables import CharacterRow, FindingRow, NoteRow, SceneRow, ShotRow, TakeRow, shot_summary, utcnow

SHOTS_PER_SCENE = 20
# The project's own cast (examples/lantern_keepers.fountain), so board filters by character bite.
CAST = ("MAISIE", "FUSE", "OSWIN", "JUNO")
SIZES = (ShotSize.WS, ShotSize.MS, ShotSize.CU, ShotSize.OTS, ShotSize.TWO_SHOT)
ASSIGNEES = ("ana", "bo", "cy", "dee", "")
# One shot in twenty has a take that a check failed (the board's "flagged").
FLAGGED_EVERY = 20
# Most shots wait for review, so the load has shots to decide on; the rest spread over the other statuses.
STATUS_CYCLE = [Status.PENDING_REVIEW] * 8 + [
    Status.IN_PROGRESS,
    Status.CHANGES_REQUESTED,
    Status.TODO,
    Status.APPROVED,
]
FRAME_SIZE = (320, 180)
PASSWORD = "dailies-at-nine"  # every benchmark user's password (the load itself uses API tokens)


@dataclass(slots=True)
class ReviewData:
    """What ``build`` made, for the load script to aim at."""

    root: Path
    shots: list[str] = field(default_factory=list)  # in cut order
    # Shots waiting for review with no flagged take: each may be decided on exactly once.
    undecided: list[str] = field(default_factory=list)
    takes: int = 0
    tokens: dict[str, str] = field(default_factory=dict)  # user name -> API token
    reviewers: list[str] = field(default_factory=list)
    supervisors: list[str] = field(default_factory=list)
    producer: str = "producer"
    insert_seconds: float = 0.0  # the bulk insert of shots, takes, findings and notes alone


def fountain(scenes: int) -> str:
    """A screenplay of ``scenes`` short numbered scenes, each with one line for the cast."""
    parts = ["Title: Review Load\nAuthor: Soundstage benchmarks\n\n"]
    for n in range(1, scenes + 1):
        speaker = CAST[n % len(CAST)]
        parts.append(
            f"EXT. HARBOUR STEPS {n} - NIGHT #{n}#\n\n"
            f"Lamp {n} gutters in the wind off the harbour.\n\n"
            f"{speaker}\nLamp {n}, steady now.\n\n"
        )
    return "".join(parts)


def frame_pngs(count: int = 2) -> list[bytes]:
    """A few distinct, real PNG frames (flat colour with a gradient) at FRAME_SIZE."""
    width, height = FRAME_SIZE
    ramp = np.linspace(0, 255, width, dtype=np.uint8)
    frames = []
    for i in range(count):
        image = np.zeros((height, width, 3), np.uint8)
        image[..., 0] = ramp
        image[..., 1] = 60 + 80 * i
        image[..., 2] = 200 - 90 * i
        frames.append(to_png(image))
    return frames


def build(
    root: Path,
    *,
    shots: int,
    takes_per_shot: int = 5,
    database_url: str = "",
    reviewers: int = 50,
    supervisors: int = 10,
) -> ReviewData:
    """Make a production at ``root`` with ``shots`` shots of ``takes_per_shot`` takes each, a producer,
    ``supervisors`` supervisors and ``reviewers`` reviewers, each with an API token."""
    data = ReviewData(root)
    scenes = -(-shots // SHOTS_PER_SCENE)
    script = root.parent / f"{root.name}-script.fountain"
    script.write_text(fountain(scenes), encoding="utf-8")
    with Production.init(root, database_url=database_url, title="Review Load") as production:
        production.import_script(script)
        outputs = [production.media.put_bytes(png, ".png") for png in frame_pngs()]
        started = time.perf_counter()
        with session_scope(production.engine) as session:
            data.shots, data.undecided, data.takes = insert_shots(session, shots, takes_per_shot, outputs)
        data.insert_seconds = time.perf_counter() - started
        _add_people(production, data, reviewers, supervisors)
    script.unlink()
    return data


def insert_shots(
    session: Session, shots: int, takes_per_shot: int, outputs: list[str]
) -> tuple[list[str], list[str], int]:
    """Bulk-insert ``shots`` shots over the imported scenes, with their takes, findings and a note on
    every fourth shot; returns (shot codes, undecided shot codes, takes inserted).

    Each table is one executemany of plain dicts (SQLAlchemy's insertmanyvalues batches them),
    so the time grows with the row count and nothing else.
    """
    scenes = session.execute(select(SceneRow.id, SceneRow.number).order_by(SceneRow.position)).all()
    session.execute(
        insert(CharacterRow),
        [{"name": name, "mask_id": i + 1, "colour": [0.2 * i, 0.5, 0.8]} for i, name in enumerate(CAST)],
    )
    shot_rows, codes, statuses = [], [], {}
    for index in range(shots):
        scene_id, number = scenes[index // SHOTS_PER_SCENE]
        code = shot_code(number, index % SHOTS_PER_SCENE)
        subjects = (CAST[index % len(CAST)],) + ((CAST[(index + 1) % len(CAST)],) if index % 3 == 0 else ())
        planned = Shot(
            code=code,
            scene=number,
            size=SIZES[index % len(SIZES)],
            lens_mm=35.0,
            subjects=subjects,
            frames=24 + index % 48,
            purpose=Purpose.SINGLE,
            description=f"lamp {index}",
        )
        status = STATUS_CYCLE[index % len(STATUS_CYCLE)]
        statuses[code] = status
        codes.append(code)
        shot_rows.append(
            {
                "scene_id": scene_id,
                "code": code,
                "position": index % SHOTS_PER_SCENE,
                "planned": planned.model_dump(mode="json"),
                "edits": {},
                **shot_summary(planned.model_dump(mode="json"), {}),
                "status": status.value,
                "assignee": ASSIGNEES[index % len(ASSIGNEES)],
            }
        )
    session.execute(insert(ShotRow), shot_rows)
    ids = dict(session.execute(select(ShotRow.code, ShotRow.id)).all())

    take_rows, checked_at = [], utcnow()
    for index, code in enumerate(codes):
        for number in range(1, takes_per_shot + 1):
            recipe = Recipe(
                shot=code,
                backend="previs",
                seed=index * takes_per_shot + number,
                width=FRAME_SIZE[0],
                height=FRAME_SIZE[1],
                requested_by="bench",
            )
            take_rows.append(
                {
                    "shot_id": ids[code],
                    "number": number,
                    "backend": "previs",
                    "recipe": recipe.model_dump(mode="json"),
                    "recipe_sha256": recipe.sha256(),
                    "output_sha256": outputs[(index + number) % len(outputs)],
                    "requested_by": "bench",
                    "signature": [],
                    # Checked (findings below): the review gate refuses to approve an unchecked take.
                    "checked_at": checked_at,
                }
            )
    session.execute(insert(TakeRow), take_rows)

    # Findings on each shot's newest take: a pass, or a fail on one shot in FLAGGED_EVERY.
    newest = dict(session.execute(select(TakeRow.shot_id, TakeRow.id).where(TakeRow.number == takes_per_shot)).all())
    findings, flagged = [], set()
    for index, code in enumerate(codes):
        fail = index % FLAGGED_EVERY == FLAGGED_EVERY - 1
        if fail:
            flagged.add(code)
        findings.append(
            {
                "take_id": newest[ids[code]],
                "check": "composition",
                "subject": "",
                "score": 0.2 if fail else 0.9,
                "verdict": "fail" if fail else "pass",
                "reason": "subject out of frame" if fail else "framing matches the previs",
            }
        )
    session.execute(insert(FindingRow), findings)
    session.execute(
        insert(NoteRow),
        [
            {"shot_id": ids[code], "author": "bench", "role": "reviewer", "frame": 0, "body": "warmer", "shapes": []}
            for code in islice(codes, 0, None, 4)
        ],
    )
    undecided = [c for c in codes if statuses[c] is Status.PENDING_REVIEW and c not in flagged]
    return codes, undecided, len(take_rows)


def _add_people(production: Production, data: ReviewData, reviewers: int, supervisors: int) -> None:
    """The producer, supervisors and reviewers, each with a password and an API token."""
    data.supervisors = [f"supervisor{i:02d}" for i in range(supervisors)]
    data.reviewers = [f"reviewer{i:02d}" for i in range(reviewers)]
    people = [(data.producer, "producer")]
    people += [(name, "supervisor") for name in data.supervisors]
    people += [(name, "reviewer") for name in data.reviewers]
    for name, role in people:
        production.add_user(name, role)
        production.set_password(name, PASSWORD)
        data.tokens[name] = production.issue_token(name)
