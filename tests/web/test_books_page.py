"""The producer's books page: the example ledger's summary (with each person's confirmed
AI-assisted hours) and incentive estimates for the producer, refused to everyone else, in the API
client and in headless Chromium."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import expect, sync_playwright

from soundstage.books.model import TimeEntry
from soundstage.project import Production
from soundstage.project.incentives import Incentives
from soundstage.web.app import create_app

from .conftest import ReviewRoom, free_port
from .test_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, VIEWPORT, log_in

LEDGER = Path(__file__).resolve().parents[2] / "examples" / "books"
AS_OF = date(2026, 6, 1)


@pytest.fixture
def books_room(review_room: ReviewRoom) -> Iterator[tuple[ReviewRoom, FastAPI, Incentives]]:
    """The review room with the example ledger on its books and the example's facts under [books],
    and an app opened after the settings were written."""
    facts = (LEDGER / "production.toml").read_text("utf-8").replace("[exchange]", "[books.facts.exchange]")
    with (review_room.root / "soundstage.toml").open("a", encoding="utf-8") as settings:
        settings.write('\n[books]\ncurrency = "CAD"\n[books.facts]\n' + facts)
    with Production.open(review_room.root) as production:
        production.import_crew(LEDGER / "crew.csv")
        production.import_hours(LEDGER / "hours.csv")
        production.import_spend(LEDGER / "spend.csv")
        expected = production.incentives(as_of=AS_OF)
    app = create_app(review_room.root)
    yield review_room, app, expected
    app.state.production.close()


def test_only_producers_see_the_books(books_room) -> None:
    room, app, expected = books_room
    for role in ("supervisor", "artist", "reviewer", "client"):
        client = TestClient(app, follow_redirects=False)
        client.headers["Authorization"] = f"Bearer {room.tokens[role]}"
        assert client.get("/books").status_code == 403, role
    assert TestClient(app, follow_redirects=False).get("/books").status_code in (303, 401)
    producer = TestClient(app, follow_redirects=False)
    producer.headers["Authorization"] = f"Bearer {room.tokens['producer']}"
    page = producer.get("/books", params={"as_of": AS_OF.isoformat()})
    assert page.status_code == 200, page.text
    ofttc = expected.estimate.program("on-ofttc")
    assert f'data-program="on-ofttc" data-eligible="true" data-net="{ofttc.net}"' in page.text
    assert "Wages (CAD)" in page.text
    # The example ledger books no AI-assisted work: the page says none, with no table.
    assert "Confirmed AI-assisted hours: <strong>0.00</strong>." in page.text
    assert 'id="ai-hours"' not in page.text


def test_the_books_page_shows_the_confirmed_ai_assisted_hours_of_the_summary(books_room) -> None:
    room, app, _ = books_room
    with Production.open(room.root) as production:
        for person, day, hours, ai in (
            ("June Okafor", date(2026, 5, 11), "3", True),
            ("June Okafor", date(2026, 5, 12), "1.75", True),
            ("June Okafor", date(2026, 5, 13), "8", False),
            ("Tomas Reyes", date(2026, 5, 11), "2.5", True),
        ):
            production.add_hours(TimeEntry(person, day, Decimal(hours), ai_assisted=ai))
        # A draft suggested from activity counts for nothing until confirmed, AI or not.
        production.add_hours(
            TimeEntry("Tomas Reyes", date(2026, 5, 12), Decimal("4"), ai_assisted=True, confirmed=False)
        )
        summary = production.books_summary()
    expected = {"June Okafor": Decimal("4.75"), "Tomas Reyes": Decimal("2.5")}
    assert dict(summary.ai_hours) == expected

    producer = TestClient(app, follow_redirects=False)
    producer.headers["Authorization"] = f"Bearer {room.tokens['producer']}"
    page = producer.get("/books", params={"as_of": AS_OF.isoformat()})
    assert page.status_code == 200, page.text
    rows = re.findall(r'<tr data-person="([^"]+)" data-hours="([^"]+)"><td>\1</td><td>([\d,.]+)</td></tr>', page.text)
    # One row per person, in the summary's order, each figure as the books report writes it.
    assert [(person, Decimal(raw)) for person, raw, _ in rows] == list(summary.ai_hours)
    assert {person: Decimal(shown) for person, _, shown in rows} == expected
    assert "<tfoot><tr><th>All</th><th>7.25</th></tr></tfoot>" in page.text
    assert "Confirmed AI-assisted hours: <strong>7.25</strong>." in page.text
    assert "prompt work stays covered work" in page.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_books_page_in_chromium(books_room) -> None:
    room, app, expected = books_room
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for role in ("producer", "supervisor"):
                context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
                context.set_default_timeout(TIMEOUT_MS)
                page = context.new_page()
                log_in(page, base, role)
                books_link = page.locator("nav a", has_text="Books")
                if role == "producer":
                    books_link.click()
                    page.wait_for_url(f"{base}/books")
                    for p in expected.estimate.programs:
                        row = page.locator(f'tr.program[data-program="{p.id}"]')
                        expect(row).to_have_attribute("data-eligible", "true" if p.eligible else "false")
                    expect(page.locator("#totals")).to_contain_text("confirmed crew hours")
                    expect(page.locator("#ai-hours-total")).to_have_text("Confirmed AI-assisted hours: 0.00.")
                else:
                    expect(books_link).to_have_count(0)
                    answer = page.goto(f"{base}/books")
                    assert answer is not None and answer.status == 403
                context.close()
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
