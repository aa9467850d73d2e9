"""In/out marks and loop playback in the dailies player, and A/B compare on clips, in Debian's
Chromium: I / O mark the current frame, playback (L forwards, J backwards) stays inside
[in, out] and with loop on wraps round (out -> in, in -> out), without it stops at the mark;
marks are kept per take and cleared by Alt+I / Alt+O / Alt+X. Every frame the player shows is
recorded as it is shown (``#player[data-shown]``), and the picture is read back as pixels.
B (compare) follows A's frame whether both are clips or one is a still."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from .conftest import ReviewRoom

# The browser test's Chromium and page fixtures, shared (pytest finds fixtures by name here).
from .test_browser import browser, log_in, page  # noqa: F401
from .test_clip_player import BLUE, CLIP, Colour, add_clip_take, picture_shows

IN, OUT = 3, 8  # the marks, inside the CLIP frames
# Backgrounds of two more clips (BLUE is the first).
GREEN: Colour = (40, 160, 90)
ORANGE: Colour = (160, 90, 40)


def record_shown(page: Page) -> None:  # noqa: F811
    """From now on, window.shown lists every frame the player shows, in order."""
    page.evaluate(
        """() => {
          window.shown = [];
          const player = document.getElementById("player");
          // A record has the value before its change: the value after one is the next's before.
          new MutationObserver((records) => {
            const after = [...records.slice(1).map((r) => r.oldValue), player.dataset.shown ?? null];
            window.shown.push(...after.filter((v) => v !== null).map(Number));
          }).observe(player, { attributes: true, attributeFilter: ["data-shown"], attributeOldValue: true });
        }"""
    )


def shown(page: Page) -> list[int]:  # noqa: F811
    return page.evaluate("() => window.shown.splice(0)")


def go_to(page: Page, frame: int) -> None:  # noqa: F811
    """Step (← / →) to a frame and wait until it is shown."""
    player = page.locator("#player")
    now = int(player.get_attribute("data-frame"))
    for _ in range(abs(frame - now)):
        page.keyboard.press("ArrowRight" if frame > now else "ArrowLeft")
    expect(player).to_have_attribute("data-shown", str(frame))


def wait_stopped(page: Page) -> int:  # noqa: F811
    """Wait for playback to stop and its last frame to be shown; that frame."""
    expect(page.locator("#player[data-playing]")).to_have_count(0)
    frame = page.locator("#player").get_attribute("data-frame")
    expect(page.locator("#player")).to_have_attribute("data-shown", frame)
    return int(frame)


# A wrap seen: `start` shown right after `end`, and two more frames played after it.
WRAPPED = """([end, start, later]) => {
  const i = window.shown.findIndex((f, k) => k > 0 && window.shown[k - 1] === end && f === start);
  return i > 0 && window.shown.slice(i).includes(later);
}"""


def test_in_out_marks_loop_playback_and_ab_on_clips(
    live_review_room: tuple[ReviewRoom, str],
    page: Page,  # noqa: F811
) -> None:
    room, base = live_review_room
    code, other = room.codes[0], room.codes[1]
    take_b = add_clip_take(room, code, ORANGE)  # the shot's third take: B
    take_a = add_clip_take(room, code, BLUE)  # its fourth: the playlist's first take
    take_c = add_clip_take(room, other, GREEN)
    still = f"{code}/1"
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {room.tokens['supervisor']}"}) as http:
        made = http.post("/api/playlists", json={"name": "loop dailies", "takes": [take_a, take_c, still]})
        assert made.status_code == 201, made.text
        playlist = made.json()["id"]
        still_frames = http.get(f"/api/shots/{code}").json()["frames"]

    log_in(page, base, "supervisor")
    page.goto(f"{base}/dailies/{playlist}")
    player = page.locator("#player")
    expect(player).to_have_attribute("data-take", take_a)
    expect(player).to_have_attribute("data-shown", "0")
    expect(page.locator("#mark-in")).to_have_text("–")
    expect(page.locator("#timeline-range")).to_be_hidden()
    player.focus()
    record_shown(page)

    # I and O mark the frame shown; the marks show as numbers and on the timeline.
    go_to(page, IN)
    page.keyboard.press("i")
    go_to(page, OUT)
    page.keyboard.press("o")
    expect(player).to_have_attribute("data-in", str(IN))
    expect(player).to_have_attribute("data-out", str(OUT))
    expect(page.locator("#mark-in")).to_have_text(str(IN))
    expect(page.locator("#mark-out")).to_have_text(str(OUT))
    expect(page.locator("#timeline-range")).to_be_visible()
    box, span = page.locator("#timeline").bounding_box(), page.locator("#timeline-range").bounding_box()
    assert abs((span["x"] - box["x"]) / box["width"] - IN / CLIP) < 0.01, (span, box)
    assert abs(span["width"] / box["width"] - (OUT - IN + 1) / CLIP) < 0.01, (span, box)
    # A click on the timeline goes to the frame under it.
    page.locator("#timeline").click(position={"x": box["width"] * (OUT + 1.5) / CLIP, "y": box["height"] / 2})
    expect(player).to_have_attribute("data-shown", str(OUT + 1))
    go_to(page, OUT)

    # Loop on (\): L from the out mark wraps round to in and on; every frame shown is inside.
    page.keyboard.press("Backslash")
    expect(page.locator("#loop")).to_have_attribute("aria-pressed", "true")
    shown(page)
    page.keyboard.press("l")
    page.wait_for_function(WRAPPED, arg=[OUT, IN, IN + 2])
    page.keyboard.press("k")
    last = wait_stopped(page)
    picture_shows(page, "#clip", last)
    played = shown(page)
    assert all(IN <= f <= OUT for f in played), played
    assert all(b - a == 1 or (a, b) == (OUT, IN) for a, b in zip(played, played[1:], strict=False)), played

    # J plays backwards, wrapping from in round to out.
    page.keyboard.press("j")
    page.wait_for_function(WRAPPED, arg=[IN, OUT, OUT - 2])
    page.keyboard.press("k")
    last = wait_stopped(page)
    picture_shows(page, "#clip", last)
    played = shown(page)
    assert all(IN <= f <= OUT for f in played), played
    assert all(a - b == 1 or (a, b) == (IN, OUT) for a, b in zip(played, played[1:], strict=False)), played

    # Loop off: L from in stops at out, J from there stops at in.
    page.keyboard.press("Backslash")
    expect(page.locator("#loop")).to_have_attribute("aria-pressed", "false")
    go_to(page, IN)
    shown(page)
    page.keyboard.press("l")
    assert wait_stopped(page) == OUT
    picture_shows(page, "#clip", OUT)
    assert shown(page) == list(range(IN + 1, OUT + 1))
    page.keyboard.press("j")
    assert wait_stopped(page) == IN
    assert shown(page) == list(range(OUT - 1, IN - 1, -1))
    # Played from outside the marks, L enters at in.
    go_to(page, OUT + 2)
    shown(page)
    page.keyboard.press("l")
    assert wait_stopped(page) == OUT
    assert shown(page) == list(range(IN, OUT + 1))

    # Marks are the take's: the next take has none, and back on this one they are as left.
    page.keyboard.press("ArrowDown")
    expect(player).to_have_attribute("data-take", take_c)
    expect(page.locator("#player[data-in], #player[data-out]")).to_have_count(0)
    expect(page.locator("#mark-out")).to_have_text("–")
    page.keyboard.press("ArrowUp")
    expect(player).to_have_attribute("data-take", take_a)
    expect(player).to_have_attribute("data-in", str(IN))
    expect(player).to_have_attribute("data-out", str(OUT))

    # Alt+I clears in alone; Alt+X clears both, and L plays on to the clip's last frame.
    page.keyboard.press("Alt+KeyI")
    expect(page.locator("#player[data-in]")).to_have_count(0)
    expect(player).to_have_attribute("data-out", str(OUT))
    page.keyboard.press("i")
    expect(player).to_have_attribute("data-in", "0")  # the frame shown: a take opens at frame 0
    page.keyboard.press("Alt+KeyX")
    expect(page.locator("#player[data-in], #player[data-out]")).to_have_count(0)
    expect(page.locator("#mark-in")).to_have_text("–")
    expect(page.locator("#mark-out")).to_have_text("–")
    expect(page.locator("#timeline-range")).to_be_hidden()
    page.keyboard.press("l")
    assert wait_stopped(page) == CLIP - 1

    # A/B on two clips: B is the shot's newest other take, the clip, at A's frame.
    expect(page.locator("#compare-take")).to_have_value(take_b.split("/")[1])
    page.keyboard.press("s")
    expect(page.locator("#clip-b")).to_be_visible()
    go_to(page, 6)
    expect(player).to_have_attribute("data-shown-b", "6")
    picture_shows(page, "#clip", 6, BLUE)
    picture_shows(page, "#clip-b", 6, ORANGE)
    # B flips into the A side at the same frame: the B clip's picture.
    page.keyboard.press("b")
    expect(player).to_have_attribute("data-showing", "b")
    picture_shows(page, "#clip", 6, ORANGE)
    page.keyboard.press("b")
    expect(player).to_have_attribute("data-showing", "a")
    picture_shows(page, "#clip", 6, BLUE)
    # B a still beside the clip: the still, at the same frame.
    page.select_option("#compare-take", label=still)
    player.focus()
    expect(page.locator("#frame-b")).to_be_visible()
    expect(page.locator("#clip-b")).to_be_hidden()
    expect(player).to_have_attribute("data-shown-b", "6")

    # A still with a clip as B: B steps with A.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(player).to_have_attribute("data-take", still)
    expect(page.locator("#compare-take")).to_have_value(take_a.split("/")[1])
    expect(page.locator("#frame")).to_be_visible()
    expect(page.locator("#clip-b")).to_be_visible()
    frame = min(5, still_frames - 1, CLIP - 1)
    go_to(page, frame)
    expect(player).to_have_attribute("data-shown-b", str(frame))
    picture_shows(page, "#clip-b", frame, BLUE)
