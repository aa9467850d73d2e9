"""Who may come in: your own account (a new password, your API tokens) and the producer's page of
people, tokens and client links, where access is ended.

Every change goes through the services that ``soundstage token revoke``, ``user deactivate`` and
``link withdraw`` use (soundstage.project.people), so it is authorised by the same rules (a
producer ends anyone's access, anyone their own) and audited the same way. The forms carry the
session's CSRF token, which ``caller`` checks.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from soundstage.passwords import MAX_PASSWORD, MIN_PASSWORD
from soundstage.project import people
from soundstage.web.auth import (
    Crew,
    Principal,
    Producer,
    Throttled,
    client_address,
    production_of,
    throttle_message,
    throttled_answer,
)
from soundstage.web.render import render
from soundstage.web.schemas import MAX_INT

router = APIRouter(include_in_schema=False)

RecordId = Annotated[int, Path(ge=1, le=MAX_INT)]
UserName = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^\x00/]+$")]
Password = Annotated[str, Form(max_length=MAX_PASSWORD, pattern=r"^[^\x00]*$")]
NewPassword = Annotated[str, Form(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD, pattern=r"^[^\x00]*$")]
# Where a revoke form returns to: the page it was on, and nowhere else.
BACK = {"account": "/account", "people": "/people"}


def _account_page(request: Request, who: Principal, message: str = "", status_code: int = 200) -> HTMLResponse:
    with production_of(request).reading() as session:
        mine = people.tokens(session, of=who.name)
    failed = status_code >= 400
    return render(request, "account.html", {"tokens": mine, "message": message, "failed": failed}, status_code)


@router.get("/account")
def account(request: Request, who: Crew) -> HTMLResponse:
    """Your account: a new password, and your API tokens to revoke."""
    return _account_page(request, who)


@router.post("/account/password")
def change_password(request: Request, who: Crew, current: Password, new: NewPassword, again: Password) -> HTMLResponse:
    """A new password, given the current one: every other session of yours ends, this one stays
    (403 for a wrong current password, 429 when throttled, 400 when the two new ones differ)."""
    if new != again:
        return _account_page(request, who, "the new password and its repeat differ", 400)
    production = production_of(request)
    try:
        changed = people.change_password(production, who.person, who.session_id, current, new, client_address(request))
    except Throttled as held:
        page = _account_page(request, who, throttle_message(held, "tries of the current password"), 429)
        return throttled_answer(page, held)
    if not changed:
        return _account_page(request, who, "the current password is wrong", 403)
    return _account_page(request, who, "password changed: your other sessions have ended")


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, who: Crew, token_id: RecordId, back: Annotated[str, Form(max_length=16)] = "account"
) -> Response:
    """Revoke an API token at once: your own, or anyone's for a producer (403 otherwise)."""
    with production_of(request).transaction() as session:
        people.revoke_token(session, who.person, token_id)
    return RedirectResponse(BACK.get(back, "/account"), status_code=303)


@router.get("/people")
def people_page(request: Request, _who: Producer) -> HTMLResponse:
    """Everyone with their role, every API token, every client link: where a producer ends access."""
    with production_of(request).reading() as session:
        context = {"users": people.users(session), "tokens": people.tokens(session), "links": people.links(session)}
    return render(request, "people.html", context)


@router.post("/people/{name}/deactivate")
def deactivate_user(request: Request, who: Crew, name: UserName) -> Response:
    """Deactivate a person (a producer): their sessions and API tokens end at once."""
    with production_of(request).transaction() as session:
        people.deactivate_user(session, who.person, name)
    return RedirectResponse("/people", status_code=303)


@router.post("/links/{share_id}/withdraw")
def withdraw_link(request: Request, who: Crew, share_id: RecordId) -> Response:
    """Withdraw a client link (a producer): it opens nothing more; its guests' sessions end."""
    with production_of(request).transaction() as session:
        people.withdraw_link(session, who.person, share_id)
    return RedirectResponse("/people", status_code=303)
