"""The JSON API of dailies playlists: list, make, read, approve whole, share with a client."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Request
from sqlalchemy.orm import Session

from soundstage.store.db import read_scope, session_scope
from soundstage.store.tables import PlaylistRow
from soundstage.web import actions, queries
from soundstage.web.auth import Crew, Decider, Producer, production_of
from soundstage.web.schemas import MAX_INT, PlaylistApproveIn, PlaylistIn, ShareIn

router = APIRouter(prefix="/api/playlists", tags=["playlists"])

PlaylistId = Annotated[int, Path(ge=1, le=MAX_INT)]


def existing(session: Session, playlist_id: int) -> None:
    """HTTPException 404 unless the playlist exists."""
    if session.get(PlaylistRow, playlist_id) is None:
        raise HTTPException(404, f"no playlist {playlist_id}")


@router.get("")
def list_playlists(request: Request, _who: Crew) -> dict[str, Any]:
    """Every playlist, newest first."""
    with read_scope(production_of(request).engine) as session:
        return {"playlists": queries.playlists(session)}


@router.post("", status_code=201)
def create_playlist(request: Request, who: Decider, body: PlaylistIn) -> dict[str, Any]:
    """A playlist of takes ("012_0030/2"), in the order given (supervisor, producer)."""
    with session_scope(production_of(request).engine) as session:
        playlist_id = actions.create_playlist(session, who.person, body)
        return queries.playlist(session, playlist_id) or {}


@router.get("/{playlist_id}")
def get_playlist(request: Request, _who: Crew, playlist_id: PlaylistId) -> dict[str, Any]:
    """A playlist with its takes in order."""
    with read_scope(production_of(request).engine) as session:
        playlist = queries.playlist(session, playlist_id)
    if playlist is None:
        raise HTTPException(404, f"no playlist {playlist_id}")
    return playlist


@router.post("/{playlist_id}/approve")
def approve_playlist(
    request: Request, who: Decider, playlist_id: PlaylistId, body: Annotated[PlaylistApproveIn | None, Body()] = None
) -> dict[str, Any]:
    """Approve every take of the playlist in one transaction: all of them, or none (409)."""
    with session_scope(production_of(request).engine) as session:
        existing(session, playlist_id)
        return actions.approve_playlist(session, who.person, playlist_id, body or PlaylistApproveIn())


@router.post("/{playlist_id}/share", status_code=201)
def share_playlist(request: Request, who: Producer, playlist_id: PlaylistId, body: ShareIn) -> dict[str, Any]:
    """A client link to the playlist: token (shown once), optional password, expiry (producer)."""
    with session_scope(production_of(request).engine) as session:
        existing(session, playlist_id)
        token, expires = actions.share_playlist(session, who.person, playlist_id, body)
    return {"url": f"/share/{token}", "expires_at": queries.iso(expires)}
