"""The review room in a real browser: Debian's Chromium driven by Playwright against the app served
by uvicorn on a loopback port (and, for the review, by `soundstage serve --workers 2`), on SQLite and
on PostgreSQL.

One review as a supervisor does it: log in, read the board, open the dailies, draw on a frame and
save the drawing as a note, request changes, approve with the A key, and find the decision in the
audit trail. Screenshots are read back as pixels, so what the page shows is asserted, not only
what its DOM says: the drawn stroke in the annotation colour over the frame, gone on another
frame, back on its own; the card's status colour on the board; the drawing on the shot page.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO

import httpx
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from .conftest import CREW, ReviewRoom, password_of, serve_production

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000

PEN = (0xFF, 0x3B, 0x30)  # the drawing tools' default colour, #ff3b30
STATUS_COLOURS = {"pending review": (0xE0, 0xB4, 0x41), "approved": (0x3F, 0xB9, 0x6B)}  # review.css
# The pen stroke, in fractions of the frame: clear of the bright square frame_png draws top left.
STROKE = [(0.55, 0.45), (0.65, 0.55), (0.75, 0.65), (0.85, 0.75)]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium, one per module (a launch costs about a second)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page; a device pixel ratio of 1, so screenshot
    pixels are CSS pixels."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture(params=["in process", "serve --workers 2"])
def served_review_room(request: pytest.FixtureRequest, review_room: ReviewRoom) -> Iterator[tuple[ReviewRoom, str]]:
    """The review room served by uvicorn in this process, or by `soundstage serve --workers 2`:
    two worker processes behind one port, so a review's requests land on either of them."""
    if request.param == "in process":
        yield request.getfixturevalue("live_review_room")
        return
    server, base = serve_production(review_room.root, workers=2)
    try:
        yield review_room, base
    finally:
        server.terminate()
        server.wait(timeout=30)


def pixels(shot: bytes) -> np.ndarray:
    """A screenshot as an RGB array (rows, columns, 3)."""
    return np.asarray(Image.open(BytesIO(shot)).convert("RGB")).astype(int)


def colour_at(image: np.ndarray, x: float, y: float) -> np.ndarray:
    """The median colour of the 3x3 pixels at fractions (x, y) of the image (a stroke's antialiased
    edge is then no trouble)."""
    row, column = round(y * (image.shape[0] - 1)), round(x * (image.shape[1] - 1))
    patch = image[max(0, row - 1) : row + 2, max(0, column - 1) : column + 2].reshape(-1, 3)
    return np.median(patch, axis=0)


def near(colour: np.ndarray, expected: tuple[int, int, int], tolerance: int = 24) -> bool:
    """Whether an RGB colour is within ``tolerance`` of ``expected`` in every channel."""
    return bool(np.all(np.abs(colour - np.array(expected)) <= tolerance))


def reddish_near(image: np.ndarray, x: float, y: float, reach: int = 3) -> bool:
    """Whether a pixel within ``reach`` of fractions (x, y) is clearly red: a thin SVG stroke is
    antialiased into the frame's colour, so its pixels are red-dominated rather than the pen's exact
    colour."""
    row, column = round(y * (image.shape[0] - 1)), round(x * (image.shape[1] - 1))
    patch = image[max(0, row - reach) : row + reach + 1, max(0, column - reach) : column + reach + 1]
    return bool(np.any(patch[..., 0] - np.maximum(patch[..., 1], patch[..., 2]) > 60))


def border_colour(card: Locator) -> np.ndarray:
    """The colour of a board card's left border (5 px wide: its status colour)."""
    image = pixels(card.screenshot())
    return np.median(image[2:-2, 1:4].reshape(-1, 3), axis=0)


def log_in(page: Page, base: str, role: str) -> None:
    """Log in through the form, as the crew member of ``role``."""
    page.goto(f"{base}/login")
    page.fill("#name", CREW[role])
    page.fill("#password", password_of(CREW[role]))
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/board")


def draw(page: Page, canvas: Locator, stroke: list[tuple[float, float]]) -> None:
    """Drag the mouse along ``stroke`` (fractions of the canvas): down, moves, up."""
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 300, box
    at = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
    page.mouse.move(*at[0])
    page.mouse.down()
    for point in at[1:]:
        page.mouse.move(*point, steps=5)
    page.mouse.up()


def prepare(room: ReviewRoom, base: str) -> tuple[str, str, int]:
    """What a supervisor finds waiting: two shots the artist submitted for review, in a playlist.
    Returns (the first shot, its take in the playlist, the playlist id)."""
    first, other = room.codes[0], room.codes[2]
    with httpx.Client(base_url=base) as http:
        for code in (first, other):
            submitted = http.post(
                f"/api/shots/{code}/decisions",
                json={"action": "submit", "note": ""},
                headers={"Authorization": f"Bearer {room.tokens['artist']}"},
            )
            assert submitted.status_code == 200, submitted.text
        made = http.post(
            "/api/playlists",
            json={"name": "dailies at nine", "takes": [f"{first}/2", f"{other}/2"]},
            headers={"Authorization": f"Bearer {room.tokens['supervisor']}"},
        )
        assert made.status_code == 201, made.text
    return first, f"{first}/2", made.json()["id"]


def shot_json(room: ReviewRoom, base: str, code: str) -> dict:
    """The shot as the JSON API answers it (read as the producer)."""
    answer = httpx.get(f"{base}/api/shots/{code}", headers={"Authorization": f"Bearer {room.tokens['producer']}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_supervisor_reviews_dailies_in_chromium(served_review_room: tuple[ReviewRoom, str], page: Page) -> None:
    room, base = served_review_room
    code, take, playlist = prepare(room, base)

    # Log in and read the board: every shot a card, the submitted one in the pending-review colour.
    log_in(page, base, "supervisor")
    cards = page.locator(".shot-card[data-code]")
    expect(cards.first).to_be_visible()
    assert cards.count() == len(room.production.shots())
    card = page.locator(f'.shot-card[data-code="{code}"]')
    expect(card).to_have_attribute("data-status", "pending review")
    assert near(border_colour(card), STATUS_COLOURS["pending review"]), border_colour(card)

    # Open the dailies: the playlist's first take is up, at frame 0, waiting for review.
    page.goto(f"{base}/dailies")
    page.click(f'.playlist[data-id="{playlist}"] a')
    page.wait_for_url(f"{base}/dailies/{playlist}")
    player = page.locator("#player")
    expect(player).to_have_attribute("data-take", take)
    expect(page.locator("#shot-status")).to_have_text("pending review")
    expect(player).to_have_attribute("data-frame", "0")
    frame = page.locator("#frame")
    expect(frame).to_have_js_property("complete", True)
    before = pixels(page.locator("#stage").screenshot())

    # Draw a pen stroke on the frame: the screenshot shows it in the pen colour, over the frame.
    page.click("[data-tool=pen]")
    canvas = page.locator("canvas#annotate")
    draw(page, canvas, STROKE)
    drawn = pixels(page.locator("#stage").screenshot())
    for x, y in ((0.60, 0.50), (0.70, 0.60), (0.80, 0.70)):
        assert near(colour_at(drawn, x, y), PEN), (x, y, colour_at(drawn, x, y))
        assert not near(colour_at(before, x, y), PEN)
    # Off the stroke the frame is as it was.
    assert np.array_equal(colour_at(drawn, 0.3, 0.85), colour_at(before, 0.3, 0.85))

    # Save it as a note on this frame: stored as vector data on frame 0 of the take.
    page.fill("#note-body", "the lantern glow should bloom here")
    page.click("#save-note")
    expect(page.locator("#message")).to_contain_text("saved")
    notes = [n for n in shot_json(room, base, code)["notes"] if n["shapes"]]
    assert len(notes) == 1
    note = notes[0]
    assert (note["author"], note["take"], note["frame"]) == (CREW["supervisor"], 2, 0)
    assert note["body"] == "the lantern glow should bloom here"
    (shape,) = note["shapes"]
    assert shape["tool"] == "pen" and shape["colour"] == "#ff3b30"
    first, last = shape["points"][0], shape["points"][-1]
    assert abs(first[0] - STROKE[0][0]) < 0.02 and abs(first[1] - STROKE[0][1]) < 0.02, first
    assert abs(last[0] - STROKE[-1][0]) < 0.02 and abs(last[1] - STROKE[-1][1]) < 0.02, last

    # The drawing belongs to frame 0: stepping on hides it, stepping back shows it again.
    page.locator("#player").focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(player).to_have_attribute("data-frame", "3")
    elsewhere = pixels(page.locator("#stage").screenshot())
    assert not near(colour_at(elsewhere, 0.70, 0.60), PEN)
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    expect(player).to_have_attribute("data-frame", "0")
    back = pixels(page.locator("#stage").screenshot())
    assert near(colour_at(back, 0.70, 0.60), PEN)

    # Request changes with a note; then approve with the A key.
    page.fill("#note-body", "warmer, and hold two frames longer")
    page.click("#request-changes")
    expect(page.locator("#shot-status")).to_have_text("changes requested")
    assert room.status(code) == "changes requested"
    page.locator("#player").focus()
    page.keyboard.press("a")
    expect(page.locator("#shot-status")).to_have_text("approved")
    expect(page.locator("#message")).to_contain_text(f"{take} approved")
    approved = {t["name"]: t["approved_by"] for t in shot_json(room, base, code)["takes"]}
    assert approved[take] == CREW["supervisor"]

    # The audit trail shows the approval, by the supervisor, on the take; the chain is intact.
    page.goto(f"{base}/audit")
    expect(page.locator("#chain")).to_have_attribute("data-intact", "true")
    approval = page.locator('tr.event[data-action="approve"]')
    expect(approval).to_have_count(1)
    expect(approval).to_contain_text(take)
    expect(approval).to_contain_text(CREW["supervisor"])
    expect(approval).to_contain_text("supervisor")
    asked = page.locator('tr.event[data-action="request changes"]')
    expect(asked).to_have_count(1)
    expect(asked).to_contain_text("from=pending review, to=changes requested")
    expect(page.locator('tr.event[data-action="note"]', has_text="warmer, and hold two frames longer")).to_have_count(1)

    # Back on the board the card wears the approved colour.
    page.goto(f"{base}/board")
    card = page.locator(f'.shot-card[data-code="{code}"]')
    expect(card).to_have_attribute("data-status", "approved")
    assert near(border_colour(card), STATUS_COLOURS["approved"]), border_colour(card)

    # The shot page shows the note on frame 0 with its drawing over the take's frame.
    page.goto(f"{base}/shots/{code}")
    drawn_note = page.locator('#notes .note[data-frame="0"]').filter(has=page.locator("svg.drawing"))
    expect(drawn_note).to_have_count(1)
    expect(drawn_note).to_contain_text("the lantern glow should bloom here")
    figure = drawn_note.locator("figure")
    expect(figure.locator("img")).to_have_js_property("complete", True)
    small = pixels(figure.locator("img").screenshot())
    for x, y in STROKE:
        assert reddish_near(small, x, y), (x, y)
    assert not reddish_near(small, 0.3, 0.85)


def test_a_producer_deactivates_a_person_whose_open_session_is_refused_at_once(
    live_review_room: tuple[ReviewRoom, str], browser: Browser, page: Page
) -> None:
    room, base = live_review_room
    # The artist has the board open in a browser of their own.
    artist_context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    artist_context.set_default_timeout(TIMEOUT_MS)
    artist = artist_context.new_page()
    log_in(artist, base, "artist")
    expect(artist.locator(".shot-card[data-code]").first).to_be_visible()

    # A supervisor has no People page: deactivating people is a producer's (docs/review.md).
    log_in(page, base, "supervisor")
    expect(page.locator('nav a[href="/people"]')).to_have_count(0)
    assert page.goto(f"{base}/people").status == 403
    page.click("#logout button[type=submit]")
    page.wait_for_url(f"{base}/login")

    # The producer deactivates the artist from the People page.
    log_in(page, base, "producer")
    page.click('nav a[href="/people"]')
    page.wait_for_url(f"{base}/people")
    row = page.locator(f'tr.user[data-name="{CREW["artist"]}"]')
    expect(row).to_have_attribute("data-active", "true")
    row.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/people")
    expect(row).to_have_attribute("data-active", "false")
    expect(row.locator("button")).to_have_count(0)

    # The artist's open session is refused at once: the API answers 401, the page the login form.
    assert artist.request.get(f"{base}/api/shots").status == 401
    artist.reload()
    expect(artist.locator("form#login")).to_be_visible()
    artist_context.close()

    # The trail names who did it to whom.
    page.goto(f"{base}/audit")
    event = page.locator('tr.event[data-action="deactivate user"]')
    expect(event).to_have_count(1)
    expect(event).to_contain_text(CREW["producer"])
    expect(event).to_contain_text(CREW["artist"])


def test_logging_out_leaves_no_page_of_the_room_in_the_browser(
    live_review_room: tuple[ReviewRoom, str], page: Page
) -> None:
    # A shared machine: what one person saw must not be readable by the next after logging out,
    # neither from HTMX's history in sessionStorage nor by going Back.
    _room, base = live_review_room
    log_in(page, base, "reviewer")
    page.select_option("#filters select[name=status]", index=1)  # HTMX swaps the cards, pushes the URL
    page.wait_for_url(f"{base}/board?*")
    history = "sessionStorage.getItem('htmx-history-cache')"
    assert "shot-card" in (page.evaluate(history) or "")
    page.click("#logout button[type=submit]")
    page.wait_for_url(f"{base}/login")
    assert page.evaluate(history) is None
    page.go_back()
    expect(page.locator("form#login")).to_be_visible()
    expect(page.locator(".shot-card")).to_have_count(0)


def test_back_to_a_filtered_board_shows_the_whole_page(live_review_room: tuple[ReviewRoom, str], page: Page) -> None:
    # HTMX asks /board?status=... for the cards alone; the browser's cache must not hand those
    # back as the page when Back returns there from a shot.
    _room, base = live_review_room
    log_in(page, base, "reviewer")
    page.select_option("#filters select[name=status]", index=1)
    page.wait_for_url(f"{base}/board?*")
    page.locator(".shot-card").first.click()
    page.wait_for_url(f"{base}/shots/*")
    page.go_back()
    page.wait_for_url(f"{base}/board?*")
    expect(page.locator("form#filters")).to_be_visible()
    expect(page.locator("header.top")).to_be_visible()


def test_the_pages_need_no_inline_style_or_script(live_review_room: tuple[ReviewRoom, str], page: Page) -> None:
    # The CSP allows no inline style (nor script): a page or htmx that needed one would be refused
    # by the browser, which says so on the console.
    room, base = live_review_room
    code = room.codes[0]
    made = room.client("producer").post("/api/playlists", json={"name": "d", "takes": [f"{code}/1", f"{code}/2"]})
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    answer = page.goto(f"{base}/login")
    assert answer is not None and "unsafe-inline" not in answer.headers["content-security-policy"]
    log_in(page, base, "supervisor")
    page.select_option("#filters select[name=status]", index=1)  # htmx swaps the cards
    page.wait_for_url(f"{base}/board?*")
    for path in (f"/shots/{code}", "/audit", "/account", f"/dailies/{made.json()['id']}"):
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
    page.keyboard.press("ArrowRight")  # the player draws its timeline through the DOM's style
    expect(page.locator("#frame-number")).to_have_text("1")
    assert refused == []


def test_a_page_on_another_port_of_the_same_host_changes_nothing(
    live_review_room: tuple[ReviewRoom, str], page: Page
) -> None:
    # Another port of the same host is the same site: SameSite=Lax sends the session cookie with
    # its forms and fetches. Only the CSRF token stops them, and a page elsewhere cannot read it.
    room, base = live_review_room
    code = room.codes[0]
    log_in(page, base, "supervisor")
    evil = "http://127.0.0.1:1"  # nothing listens there: Playwright answers for it
    html = f"""<!doctype html><body>
      <form id="playlist" method="post" action="{base}/board/playlist">
        <input name="name" value="forged"><input name="take" value="{code}/1"></form>
      <script>
        fetch("{base}/api/shots/{code}/decisions", {{method: "POST", mode: "no-cors", credentials: "include",
          headers: {{"Content-Type": "text/plain"}}, body: JSON.stringify({{action: "approve", take: 1}})}})
          .finally(() => document.getElementById("playlist").submit());
      </script></body>"""
    page.route(f"{evil}/**", lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    before = room.fingerprint()
    with page.expect_response(f"{base}/board/playlist") as posted:
        page.goto(f"{evil}/cat-pictures")
    assert posted.value.status == 403
    page.wait_for_url(f"{base}/board/playlist")  # the refusal shown, its navigation done
    assert room.fingerprint() == before
    page.goto(f"{base}/board")  # still logged in
    expect(page.locator(".shot-card").first).to_be_visible()
