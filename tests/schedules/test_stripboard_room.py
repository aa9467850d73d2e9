"""The stripboard in the review room, on the project's example screenplay with one sound stage
and a solved schedule: the page shows every scene as a strip on its day with the day out of
days; a producer drags a strip to another day in Chromium and the move is stored; a drag that
breaks a rule is refused, shown, and nothing is stored; only producers may move strips."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect, sync_playwright
from web.conftest import CREW, csrf_of, form_login, free_port, password_of
from web.test_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, VIEWPORT, log_in

from soundstage.passwords import hash_password
from soundstage.project import Production, schedules
from soundstage.schedules.model import Schedule
from soundstage.store.db import sqlite_url
from soundstage.web.app import create_app

from conftest import EXAMPLE

START = date(2027, 1, 4)
# What the page shows after a round trip to the server, on a machine shared with other work.
WAIT_MS = 15_000


@dataclass
class Room:
    root: Path
    app: FastAPI
    scenes: list[str]

    def schedule(self) -> Schedule:
        """The stored schedule, read by a production opened on its own."""
        with Production.open(self.root) as production:
            return production.schedule()


def _room(root: Path, database_url: str) -> Room:
    production = Production.init(root, database_url=database_url)
    production.import_script(EXAMPLE)
    production.add_stage("Stage A", kind="sound-stage", size_sqft=12000, zone="in", day_rate="2500")
    production.solve_schedule(start=START, time_limit=10)
    for role in ("producer", "reviewer"):
        name = CREW[role]
        production.add_user(name, role, password_hash=hash_password(password_of(name), who=name))
    scenes = [s.number for s in production.script().scenes]
    production.close()
    return Room(root, create_app(root), scenes)


@pytest.fixture
def room(tmp_path: Path, database_url: str) -> Iterator[Room]:
    made = _room(tmp_path / "pilot", database_url)
    yield made
    made.app.state.production.close()


def _login(room: Room, role: str) -> tuple[TestClient, str]:
    client = TestClient(room.app, follow_redirects=False)
    name = CREW[role]
    assert form_login(client, {"name": name, "password": password_of(name)}).status_code == 303
    page = client.get("/schedule")
    assert page.status_code == 200
    return client, csrf_of(page.text)


def _locations(room: Room) -> tuple[str, int]:
    """A scene and a day (1-based) at another location with room for it: a move there puts the
    company at two places in a day, and breaks no other rule first (the day's capacity)."""
    with Production.open(room.root) as production:
        problem, schedule = schedules.current(production.context)
    eighths = {scene.number: scene.eighths for scene in problem.scenes}
    room_left = {d.index: problem.settings.eighths_per_day - sum(eighths[s] for s in d.scenes) for d in schedule.days}
    return next(
        (scene, there.index + 1)
        for here in schedule.days
        for scene in here.scenes
        for there in schedule.days
        if there.location != here.location and eighths[scene] <= room_left[there.index]
    )


def test_the_page_shows_every_strip_on_its_day_and_the_dood(room: Room) -> None:
    client, _csrf = _login(room, "reviewer")
    html = client.get("/schedule").text
    schedule = room.schedule()
    for day in schedule.days:
        for scene in day.scenes:
            assert f'data-scene="{scene}" data-day="{day.index}"' in html
        assert f'data-day="{day.index}" data-date="{day.date.isoformat()}"' in html
    assert html.count('class="strip ') == sum(len(d.scenes) for d in schedule.days)
    assert 'draggable="true"' not in html  # a reviewer looks; producers move
    assert 'class="dood"' in html and "MAISIE" in html
    # One free day after the last, to drag a strip onto.
    free = schedule.days[-1].index + 1
    assert f'class="day free" data-day="{free}"' in html


def test_moves_through_the_api_refused_or_stored(room: Room) -> None:
    before = room.schedule()
    scene, elsewhere = _locations(room)
    producer, csrf = _login(room, "producer")
    refused = producer.post(
        "/api/schedule/moves", json={"scene": scene, "day": elsewhere}, headers={"X-CSRF-Token": csrf}
    )
    assert refused.status_code == 409
    assert "locations" in refused.json()["detail"] and f"scene {scene}" in refused.json()["detail"]
    assert room.schedule().days == before.days  # nothing stored
    unknown = producer.post("/api/schedule/moves", json={"scene": "99", "day": 1}, headers={"X-CSRF-Token": csrf})
    assert unknown.status_code == 400
    reviewer, reviewer_csrf = _login(room, "reviewer")
    free = before.days[-1].index + 2
    denied = reviewer.post(
        "/api/schedule/moves", json={"scene": scene, "day": free}, headers={"X-CSRF-Token": reviewer_csrf}
    )
    assert denied.status_code == 403
    assert room.schedule().days == before.days
    stored = producer.post("/api/schedule/moves", json={"scene": scene, "day": free}, headers={"X-CSRF-Token": csrf})
    assert stored.status_code == 200, stored.text
    assert stored.json()["day"] == free
    after = room.schedule()
    assert after.day_of(scene).index == free - 1
    assert stored.json()["cost"] == str(after.cost.total)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # Tall enough for the whole board: a drag that has to scroll the page is not a producer's drag.
    context = browser.new_context(viewport={**VIEWPORT, "height": 2000}, device_scale_factor=1)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def live_room(tmp_path: Path) -> Iterator[tuple[Room, str]]:
    """The room on SQLite, served by uvicorn on a loopback port for Chromium."""
    made = _room(tmp_path / "pilot", sqlite_url(tmp_path / "pilot" / "soundstage.db"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(made.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the review room did not start"
        time.sleep(0.02)
    yield made, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    made.app.state.production.close()


def test_a_producer_drags_strips_in_chromium(live_room: tuple[Room, str], page: Page) -> None:
    room, base = live_room
    before = room.schedule()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, base, "producer")
    page.goto(f"{base}/schedule")
    strips = page.locator(".strip[data-scene]")
    expect(strips).to_have_count(sum(len(d.scenes) for d in before.days), timeout=WAIT_MS)
    assert page.locator("#stripboard").bounding_box()["height"] < 1800

    # An illegal drag: a strip onto a day at another location. Over the day the page shows what
    # the move would break; dropped there it is refused, the reason shown, the strip still on
    # its day, nothing stored.
    scene, elsewhere = _locations(room)
    strip = page.locator(f'.strip[data-scene="{scene}"]')
    home = before.day_of(scene).index
    target = page.locator(f'.day[data-day="{elsewhere - 1}"]')
    strip.hover()
    page.mouse.down()
    box = target.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y, steps=8)
    expect(page.locator("#message")).to_contain_text(f"scene {scene} to day {elsewhere}: cost", timeout=WAIT_MS)
    expect(page.locator("#message")).to_contain_text("breaks:", timeout=WAIT_MS)
    expect(target).to_have_class(re.compile(r"\bconflict\b"), timeout=WAIT_MS)
    # A last move over the day before letting go: the drop lands where the browser last saw
    # the pointer drag over, and the waits above may have outlasted its last dragover.
    page.mouse.move(x + 3, y + 1, steps=2)
    page.mouse.up()
    expect(page.locator("#message")).to_contain_text("refused", timeout=WAIT_MS)
    expect(page.locator("#message")).to_contain_text("locations", timeout=WAIT_MS)
    expect(page.locator(f'.day[data-day="{home}"] .strip[data-scene="{scene}"]')).to_have_count(1, timeout=WAIT_MS)
    assert room.schedule().days == before.days

    # A legal drag: onto the free day after the last. Stored, and the board redrawn with it.
    free = before.days[-1].index + 1
    strip.drag_to(page.locator(f'.day[data-day="{free}"]'))
    expect(page.locator("#message")).to_contain_text(f"scene {scene} moved to day {free + 1} (", timeout=WAIT_MS)
    expect(page.locator(f'.day[data-day="{free}"] .strip[data-scene="{scene}"]')).to_have_count(1, timeout=WAIT_MS)
    after = room.schedule()
    assert after.day_of(scene).index == free
    expect(page.locator("#cost")).to_have_text(f"{after.cost.total:,.2f}", timeout=WAIT_MS)
    # The redrawn board still takes drags: the strip goes back home, and that is stored too.
    page.locator(f'.strip[data-scene="{scene}"]').drag_to(page.locator(f'.day[data-day="{home}"]'))
    expect(page.locator("#message")).to_contain_text(f"scene {scene} moved to day {home + 1} (", timeout=WAIT_MS)
    assert room.schedule().day_of(scene).index == home
    assert errors == []
