"""A clip take in review: the intent checks read its frames, and the review room serves it as
video/mp4 with the range requests a browser's player seeks with."""

from __future__ import annotations

from fastapi.testclient import TestClient

from soundstage.generate import clips
from soundstage.passwords import hash_password
from soundstage.project import Production, TakeOptions
from soundstage.web.app import create_app

from .test_previs_clips import MOVING


def _clip_take(production: Production):
    production.queue_takes(MOVING, TakeOptions(frames=24))
    production.work(workers=1)
    (take,) = [t for t in production.takes(MOVING) if t.path is not None]
    assert take.path.suffix == ".mp4"
    return take


def test_the_checks_run_on_a_clip_take(copy_production: Production) -> None:
    take = _clip_take(copy_production)
    # The worker ran the checks on the batch: they read the clip's frames, so every check
    # left its findings (a PNG reader would have failed on the MP4 and left none).
    found = copy_production.findings(take.name)
    assert {f.check for f in found} >= {"composition", "style"}
    # The previs take is the storyboard: its composition is as blocked.
    assert all(f.verdict.value != "fail" for f in found if f.check == "composition")
    assert copy_production.check([MOVING]).findings[take.name]


def test_the_review_room_serves_a_clip_with_ranges(copy_production: Production) -> None:
    take = _clip_take(copy_production)
    data = take.path.read_bytes()
    copy_production.add_user("Sol", "supervisor", password_hash=hash_password("sol-lantern-light", who="Sol"))
    token = copy_production.issue_token("Sol")
    app = create_app(copy_production.root)
    try:
        client = TestClient(app, follow_redirects=False)
        url = f"/media/{take.path.stem}.mp4"
        assert client.get(url).status_code == 401
        client.headers["Authorization"] = f"Bearer {token}"
        whole = client.get(url)
        assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
        assert whole.headers["accept-ranges"] == "bytes" and whole.content == data
        part = client.get(url, headers={"Range": "bytes=100-1099"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 100-1099/{len(data)}"
        assert part.content == data[100:1100]
        tail = client.get(url, headers={"Range": f"bytes={len(data) - 10}-"})
        assert tail.status_code == 206 and tail.content == data[-10:]
        assert client.get(url, headers={"Range": f"bytes={len(data) + 5}-"}).status_code == 416
        # The same name as a still is not there, and decoding what was served gives the take.
        assert client.get(f"/media/{take.path.stem}.png").status_code == 404
        assert len(clips.read_clip(whole.content, "served").frames) == 24
    finally:
        app.state.production.close()
