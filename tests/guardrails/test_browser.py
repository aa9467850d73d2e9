"""The review room's refusal in a real browser: Debian's Chromium, driven by Playwright, against
the app served by uvicorn. A supervisor presses A on a take of MAISIE whose performer has not
consented; the page says which rule refuses it and why, and the shot stays as it was."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright

from soundstage.project import Production
from soundstage.web.app import create_app

from .test_product import pilot, pilot_shots  # noqa: F401  (the fixture and its shots)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PASSWORD = "sol-lantern-light"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_review_room_shows_the_guardrail_refusal_in_chromium(pilot: Path) -> None:  # noqa: F811
    import uvicorn

    code = pilot_shots[0]
    with Production.open(pilot) as production:
        production.set_password("Sol", PASSWORD)
        token = production.issue_token("Sol")
    app = create_app(pilot)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the review room did not start"
        time.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    try:
        made = httpx.post(
            f"{base}/api/playlists",
            json={"name": "dailies", "takes": [f"{code}/1"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert made.status_code == 201, made.text
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.set_default_timeout(10_000)
            page.goto(f"{base}/login")
            page.fill("#name", "Sol")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/board")
            page.goto(f"{base}/dailies/{made.json()['id']}")
            expect(page.locator("#player")).to_have_attribute("data-take", f"{code}/1")
            page.locator("#player").focus()
            page.keyboard.press("a")
            message = page.locator("#message")
            expect(message).to_contain_text("SAG-DR-3")
            expect(message).to_contain_text("Replica use of Ada Lind is outside consent")
            expect(page.locator("#shot-status")).to_have_text("todo")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
        app.state.production.close()
