"""The JSON API of dailies playlists: list, make, read, approve whole, share with a client."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Request

from soundstage.project import board, dailies
from soundstage.web.auth import Crew, Decider, Producer, production_of
from soundstage.web.params import PlaylistId
from soundstage.web.schemas import ERRORS, PlaylistApproveIn, PlaylistIn, PlaylistsOut, ShareIn, ShareOut

router = APIRouter(prefix="/api/playlists", tags=["playlists"], responses=ERRORS)


def _missing(playlist_id: int) -> HTTPException:
    return HTTPException(404, f"no playlist {playlist_id}")


@router.get("")
def list_playlists(request: Request, _who: Crew) -> PlaylistsOut:
    """Every playlist, newest first."""
    with production_of(request).reading() as session:
        return PlaylistsOut(playlists=dailies.playlists(session))


@router.post("", status_code=201)
def create_playlist(request: Request, who: Decider, body: PlaylistIn) -> dailies.Playlist:
    """A playlist of takes ("012_0030/2"), in the order given (supervisor, producer)."""
    with production_of(request).transaction() as session:
        playlist_id = dailies.create_playlist(session, who.person, body.name, body.takes)
        made = dailies.playlist(session, playlist_id)
    assert made is not None  # made in this very transaction
    return made


@router.get("/{playlist_id}")
def get_playlist(request: Request, _who: Crew, playlist_id: PlaylistId) -> dailies.Playlist:
    """A playlist with its takes in order."""
    with production_of(request).reading() as session:
        playlist = dailies.playlist(session, playlist_id)
    if playlist is None:
        raise _missing(playlist_id)
    return playlist


@router.post("/{playlist_id}/approve")
def approve_playlist(
    request: Request, who: Decider, playlist_id: PlaylistId, body: Annotated[PlaylistApproveIn | None, Body()] = None
) -> dailies.Approvals:
    """Approve every take of the playlist in one transaction: all of them, or none (409)."""
    body = body or PlaylistApproveIn()
    production = production_of(request)
    with production.transaction() as session:
        if not dailies.exists_playlist(session, playlist_id):
            raise _missing(playlist_id)
        return dailies.approve_playlist(
            session,
            who.person,
            playlist_id,
            note=body.note,
            override_reason=body.override_reason,
            overrides=body.overrides,
            context=production,
        )


@router.post("/{playlist_id}/share", status_code=201)
def share_playlist(request: Request, who: Producer, playlist_id: PlaylistId, body: ShareIn) -> ShareOut:
    """A client link to the playlist: token (shown once), optional password, expiry (producer)."""
    with production_of(request).transaction() as session:
        if not dailies.exists_playlist(session, playlist_id):
            raise _missing(playlist_id)
        token, expires = dailies.share_playlist(
            session,
            who.person,
            playlist_id,
            password=body.password,
            expires_in_hours=body.expires_in_hours,
            can_comment=body.can_comment,
        )
    return ShareOut(url=f"/share/{token}", expires_at=board.iso(expires))
