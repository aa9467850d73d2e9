"""A clip take in the review room, in Debian's Chromium: the board shows it as a <video>, the
dailies player steps it frame by frame (each frame a seek the picture lands on: read back as
pixels), plays it with L and back with J, and a note goes on an integer frame of the clip."""

from __future__ import annotations

from fractions import Fraction
from time import monotonic

import httpx
import numpy as np
from playwright.sync_api import Page, expect
from sqlalchemy import select

from soundstage.generate import clips
from soundstage.generate.backend import Recipe
from soundstage.store.db import session_scope
from soundstage.store.tables import ShotRow, TakeRow, utcnow

from .conftest import CREW, ReviewRoom

# The browser test's Chromium and page fixtures, shared (pytest finds fixtures by name here).
from .test_browser import TIMEOUT_MS, browser, log_in, page, pixels  # noqa: F401

CLIP = 12  # frames of the clip take
WIDTH, HEIGHT = 128, 72
STEP = 8  # the block moves this many pixels a frame
NOTE_FRAME = 5
Colour = tuple[int, int, int]
BLUE: Colour = (40, 90, 160)  # the clip's background (another colour makes another clip)


def clip_frames(background: Colour = BLUE) -> list[np.ndarray]:
    """Frames that say which they are: a white block ``STEP * n`` pixels from the left on frame n."""
    frames = []
    for number in range(CLIP):
        frame = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        frame[:] = background
        frame[20:52, STEP * number : STEP * number + 16] = 255
        frames.append(frame)
    return frames


def add_clip_take(room: ReviewRoom, code: str, background: Colour = BLUE) -> str:
    """A clip take (an MP4 of CLIP frames at 24 fps) as the shot's newest take; its name."""
    production = room.production
    data = clips.write_take(clip_frames(background), Fraction(24))
    sha = production.media.put_bytes(data, ".mp4")
    with session_scope(production.engine) as session:
        shot = session.scalars(select(ShotRow).where(ShotRow.code == code)).one()
        number = len(session.scalars(select(TakeRow).where(TakeRow.shot_id == shot.id)).all()) + 1
        recipe = Recipe(shot=code, backend="previs", seed=number, frames=CLIP, width=WIDTH, height=HEIGHT)
        session.add(
            TakeRow(shot_id=shot.id, number=number, backend="previs", recipe=recipe.model_dump(mode="json"),
                    recipe_sha256=recipe.sha256(), output_sha256=sha, checked_at=utcnow())
        )  # fmt: skip
    return f"{code}/{number}"


def block_frame(image: np.ndarray) -> int | None:
    """The frame a screenshot of the clip shows, by where its white block's left edge is (None:
    no block in the picture)."""
    row = image[round(image.shape[0] * 36 / HEIGHT)]
    white = np.flatnonzero(row.min(axis=1) > 220)
    return round(white[0] / image.shape[1] * WIDTH / STEP) if white.size else None


def picture_shows(page: Page, selector: str, frame: int, background: Colour | None = None) -> None:  # noqa: F811
    """Assert that a <video> shows frame ``frame`` of a clip (of that background colour, if given),
    read from its pixels. The player says a frame is shown once the browser reports it painted;
    a screenshot can still catch the picture before that, so the pixels are read again (as
    Playwright's expect retries) until they show it or the time runs out."""
    deadline = monotonic() + TIMEOUT_MS / 1000
    while True:
        image = pixels(page.locator(selector).screenshot())
        seen = block_frame(image)
        corner = tuple(int(c) for c in image[2, 2])
        right = background is None or max(abs(a - b) for a, b in zip(corner, background, strict=True)) < 24
        if (seen == frame and right) or monotonic() > deadline:
            break
        page.wait_for_timeout(50)
    assert seen == frame and right, (selector, seen, frame, corner, background)


def test_a_clip_take_steps_frame_by_frame_and_takes_a_note(
    live_review_room: tuple[ReviewRoom, str],
    page: Page,  # noqa: F811
) -> None:
    room, base = live_review_room
    code = room.codes[0]
    take = add_clip_take(room, code)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {room.tokens['supervisor']}"}) as http:
        made = http.post("/api/playlists", json={"name": "clip dailies", "takes": [take]})
        assert made.status_code == 201, made.text
        playlist = made.json()["id"]

    # The board shows the shot's current take, the clip, as a video of the MP4.
    log_in(page, base, "supervisor")
    video = page.locator(f'.shot-card[data-code="{code}"] video')
    expect(video).to_have_count(1)
    assert video.get_attribute("src").endswith(".mp4")
    assert video.get_attribute("data-clip-frames") == str(CLIP)

    # The player shows the clip take in its <video>, at frame 0, with the clip's frames.
    page.goto(f"{base}/dailies/{playlist}")
    player = page.locator("#player")
    expect(player).to_have_attribute("data-take", take)
    expect(player).to_have_attribute("data-clip", "true")
    expect(page.locator("#clip")).to_be_visible()
    expect(page.locator("#frame")).to_be_hidden()
    expect(page.locator("#frame-count")).to_have_text(str(CLIP))
    expect(player).to_have_attribute("data-shown", "0")
    picture_shows(page, "#clip", 0)

    # Step on frame by frame: each step shows the next frame of the clip, exactly.
    player.focus()
    for number in range(1, CLIP):
        page.keyboard.press("ArrowRight")
        expect(player).to_have_attribute("data-shown", str(number))
        picture_shows(page, "#clip", number)
    page.keyboard.press("ArrowRight")  # the last frame is as far as it goes
    expect(player).to_have_attribute("data-frame", str(CLIP - 1))
    # J plays backwards to the first frame, L forwards to the last.
    page.keyboard.press("j")
    expect(player).to_have_attribute("data-shown", "0")
    picture_shows(page, "#clip", 0)
    page.keyboard.press("l")
    expect(player).to_have_attribute("data-shown", str(CLIP - 1))
    picture_shows(page, "#clip", CLIP - 1)
    for _ in range(CLIP - 1 - NOTE_FRAME):
        page.keyboard.press("ArrowLeft")
    expect(player).to_have_attribute("data-shown", str(NOTE_FRAME))
    picture_shows(page, "#clip", NOTE_FRAME)

    # A note here is on frame NOTE_FRAME of the clip take.
    page.fill("#note-body", "the lamp flickers on this frame")
    page.click("#save-note")
    expect(page.locator("#message")).to_contain_text("saved")
    notes = httpx.get(f"{base}/api/shots/{code}", headers={"Authorization": f"Bearer {room.tokens['producer']}"})
    (note,) = [n for n in notes.json()["notes"] if n["body"] == "the lamp flickers on this frame"]
    assert (note["author"], note["take"], note["frame"]) == (CREW["supervisor"], int(take.split("/")[1]), NOTE_FRAME)
    expect(page.locator(f'#frame-notes .note[data-frame="{NOTE_FRAME}"]')).to_contain_text("frame 5")

    # The shot page: the clip take in the take list as a video; compared as a video beside a
    # still, and as a still again when B is set to a still take.
    page.goto(f"{base}/shots/{code}")
    expect(page.locator(f'#take-list .take[data-take="{take}"] video')).to_have_attribute("data-clip-frames", str(CLIP))
    expect(page.locator("#compare-clip-b")).to_be_visible()
    expect(page.locator("#compare-img-b")).to_be_hidden()
    expect(page.locator("#compare-img-a")).to_be_visible()
    page.select_option("#compare-b", label=f"{code}/1")
    expect(page.locator("#compare-img-b")).to_be_visible()
    expect(page.locator("#compare-clip-b")).to_be_hidden()
