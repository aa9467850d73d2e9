"""The review room's application: ``create_app`` opens a production and wires routes, templates,
static files, the request size limit and one way of answering errors.

Errors a user can cause answer with one line: ``{"detail": "..."}`` on the JSON API and media,
an HTML page on the pages (401 there is the login form, so a link opened while logged out
lands where it should after logging in).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from soundstage import __version__
from soundstage.errors import (
    ConfigError,
    GuardrailRefusal,
    NoSuchRecord,
    PermissionDenied,
    ReviewError,
    ShotError,
    SoundstageError,
)
from soundstage.project import people
from soundstage.project.production import open_production
from soundstage.web.auth import authenticate, login_page
from soundstage.web.render import HERE, render
from soundstage.web.routes import access, api, media, pages, playlists, share
from soundstage.web.routes import books as book_pages
from soundstage.web.routes import schedule as stripboard_routes

MAX_BODY = 1 << 20  # 1 MiB: a note with a drawing is a few kB; nothing the room takes is larger
# Every answer's security headers. The room's scripts are its own files (no inline script, no
# eval), so scripts are limited to the room itself; styles too (htmx's inline indicator style
# is off, base.html); drawings and the dailies player use data: and blob: URLs. No page may be
# framed by another site (clickjacking of an approval).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
# Behind TLS (``[serve] secure_cookies``): browsers that have seen the room once never try it
# over plain HTTP again, where a network attacker could answer in its place. The domain's other
# sites are left alone (no includeSubDomains).
HSTS = ("Strict-Transport-Security", "max-age=31536000")


def create_app(production_root: Path) -> FastAPI:
    """The review room for the production at ``production_root`` (opened once, one engine)."""
    form_key = login_form_key()  # before the production opens: a bad key leaves nothing open
    production = open_production(production_root)
    with production.transaction() as session:
        people.prune(session)  # expired sessions and old login failures, at every start

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        production.close()

    app = FastAPI(
        title="Soundstage review room",
        version=__version__,
        description="Shots, takes, notes, approvals, playlists, client links and the audit trail.",
        lifespan=lifespan,
        # The schema is a map of every route for whoever asks, logged in or not: served only when
        # ``[serve] api_schema`` says so (app.openapi() still builds it in process). FastAPI's
        # /docs and /redoc never: they load Swagger UI and ReDoc from a CDN, scripts from another
        # site running with the room's cookies (and the CSP forbids them anyway).
        openapi_url="/openapi.json" if production.settings.serve.api_schema else None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.production = production
    app.state.login_form_key = form_key
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    app.add_middleware(SecurityHeaders, hsts=production.settings.serve.secure_cookies)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (api, playlists, media, pages, share, book_pages):
        app.include_router(module.router)
    app.include_router(stripboard_routes.router)
    app.include_router(stripboard_routes.api_router)
    app.include_router(access.router)
    app.add_exception_handler(SoundstageError, _soundstage_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    return app


def wants_json(request: Request) -> bool:
    """Whether a request is answered in JSON (the API and media) rather than an HTML page."""
    return request.url.path.startswith(("/api/", "/media/")) or request.url.path == "/api"


def status_of(error: SoundstageError) -> int:
    """The HTTP status for a refusal: a role that may not (403), no such shot or take (404), the
    workflow refusing (409), any other bad input (400)."""
    if isinstance(error, PermissionDenied):
        return 403
    if isinstance(error, ShotError):
        return 404
    if isinstance(error, NoSuchRecord):
        return 404  # no such API token, person or client link
    if isinstance(error, ReviewError | GuardrailRefusal):
        return 409  # GuardrailRefusal: the AI rules refuse the approval (docs/guardrails.md)
    return 400


def _answer(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    if status == 401:
        return login_page(request, "login.html", {"message": detail, "next": _here(request), "name": ""}, 401)
    return render(request, "error.html", {"status": status, "message": detail}, status)


def _here(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{request.url.path}{query}" if request.method == "GET" else "/board"


async def _soundstage_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, SoundstageError)
    return _answer(request, status_of(error), str(error))


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if not hasattr(request.state, "principal") and not wants_json(request):
        # Pages show who is logged in even on an error page; a bad token must not stop that.
        try:
            authenticate(request)
        except HTTPException:
            request.state.principal = None
    return _answer(request, error.status_code, str(error.detail), getattr(error, "headers", None))


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    # One line naming each field and what is wrong with it, rather than a nested list.
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
    return _answer(request, 422, problems or "invalid request")


class SecurityHeaders:
    """Adds SECURITY_HEADERS (and HSTS when ``hsts``) to every HTTP answer (pages, API, media,
    errors, static files), and answers a route's unexpected exception itself: a one-line 500
    that names no code, SQL or path, with the same headers (Starlette's own 500 is sent from
    outside this middleware, without them). The exception is raised on, for the server's log.
    """

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        pairs = [*SECURITY_HEADERS.items(), *([HSTS] if hsts else [])]
        self.headers = [(k.lower().encode(), v.encode()) for k, v in pairs]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if started:
                raise
            detail = "internal error: the server's log has the details"
            json = wants_json(Request(scope))
            answer = JSONResponse({"detail": detail}, 500) if json else PlainTextResponse(detail, 500)
            await answer(scope, receive, sending)
            raise


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413, whether or not Content-Length says so.

    A chunked body is counted as it arrives: at the limit the middleware answers 413 itself and
    tells the route the client has gone, so no parser turns it into a 400, and whatever the
    route then tries to send is dropped.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(scope, receive, send, self.limit)
            return
        received = 0
        started = refused = False

        async def counting() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                refused = True
                if not started:
                    await _too_large(scope, receive, send, self.limit)
                return {"type": "http.disconnect"}
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, sending)
        except Exception:
            if not refused:
                raise
            # The route saw the client "go" mid-body (ClientDisconnect); the 413 was answered.


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = JSONResponse({"detail": f"request body over {limit // 1024} KiB"}, status_code=413)
    await response(scope, receive, send)


# -- serve --workers --

# The production root handed to each worker process of ``soundstage serve --workers N``: uvicorn
# starts its workers from an import string, so the app is made by a factory in each process.
ROOT_VARIABLE = "SOUNDSTAGE_SERVE_ROOT"
# The key that signs the login forms' CSRF tokens, shared by every process serving the production
# (hex): a form one worker rendered is posted to whichever worker accepts the connection.
FORM_KEY_VARIABLE = "SOUNDSTAGE_SERVE_FORM_KEY"


def login_form_key() -> bytes:
    """The login forms' signing key: SOUNDSTAGE_SERVE_FORM_KEY when set (``serve --workers``
    sets it for its workers; hosts behind one load balancer set the same), else a random one for
    this process alone (a restart then only means reloading an open login form)."""
    shared = os.environ.get(FORM_KEY_VARIABLE)
    if shared is None:
        return secrets.token_bytes(32)
    try:
        key = bytes.fromhex(shared)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise ConfigError(f"{FORM_KEY_VARIABLE}: not a key of at least 32 hex digits")
    return key


def from_environment() -> FastAPI:
    """The review room of the production named by SOUNDSTAGE_SERVE_ROOT (uvicorn's factory)."""
    return create_app(Path(os.environ[ROOT_VARIABLE]))
