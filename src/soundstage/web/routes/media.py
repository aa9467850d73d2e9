"""Images and clips from the media store, to those who may see them: crew see takes and previs
passes, a client link's guest only the takes of that playlist. The name must be a sha256 and
``.png`` (a still) or ``.mp4`` (a take that moves); the media store builds the path from it, so
no request can reach a file outside the store. Clips are served with HTTP range requests
(206, as RFC 9110 has them: web.ranges), which a browser's video player needs to seek."""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from soundstage.project import board, dailies
from soundstage.web.auth import CREW, authenticate, guest_share, production_of
from soundstage.web.ranges import RangedFile
from soundstage.web.schemas import ERRORS, ErrorOut

router = APIRouter(tags=["media"], responses=ERRORS)

_NAME = re.compile(r"([0-9a-f]{64})(\.png|\.mp4)")
_TYPES = {".png": "image/png", ".mp4": "video/mp4"}


# HEAD too: players and browsers ask it before a clip (its size, whether ranges are served);
# FileResponse answers it with GET's headers, Content-Length included, and no body. Out of the
# schema: one operation per path there, and HEAD is GET's by HTTP's own rules.
@router.head("/media/{name}", include_in_schema=False)
@router.get(
    "/media/{name}",
    response_class=FileResponse,
    responses={
        200: {"content": {"image/png": {}, "video/mp4": {}}, "description": "The PNG or MP4, by its content hash"},
        206: {"content": {"video/mp4": {}}, "description": "The bytes a Range header asked for"},
        416: {"model": ErrorOut, "description": "A Range wholly past the end (Content-Range: bytes */SIZE)"},
    },
)
def media(request: Request, name: str) -> FileResponse:
    """A PNG or an MP4 by its sha256 (``/media/<sha256>.png``, ``.mp4``); 404 for anything the
    caller may not see."""
    match = _NAME.fullmatch(name)
    missing = HTTPException(404, f"no media object {name[:80]!r}")
    if match is None:
        raise missing
    sha, suffix = match.group(1), match.group(2)
    production = production_of(request)
    principal = authenticate(request)
    share_id = None if principal is not None else guest_share(request)
    if principal is None and share_id is None:
        raise HTTPException(401, "log in first (or send Authorization: Bearer TOKEN)")
    if principal is not None and principal.role not in CREW:
        raise HTTPException(403, f"{principal.name} ({principal.role}) sees media only through a shared link")
    with production.reading() as session:
        if principal is not None:
            allowed = board.crew_may_see(session, sha)
        else:
            allowed = dailies.guest_may_see(session, share_id or 0, sha)
    path = production.media.path(sha, suffix)
    if not allowed or not path.is_file():
        raise missing
    # Content-addressed: the bytes behind a name never change, so browsers may keep them.
    return RangedFile(
        path,
        media_type=_TYPES[suffix],
        headers={"Cache-Control": "private, max-age=31536000, immutable"},
        stat_result=path.stat(),  # here, in the route's thread: the size a Range is checked against
    )
