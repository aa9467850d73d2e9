"""Commands of people, review decisions, the audit trail and the review room: user, review,
audit, serve."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from soundstage.cli.app import (
    MAX_ID,
    State,
    app,
    audit_app,
    err,
    opened,
    out,
    review_app,
    user_app,
)
from soundstage.errors import ConfigError, ReviewError
from soundstage.project.trail import cut_head
from soundstage.review.audit import as_utc
from soundstage.review.workflow import Action

# -- people, review and the audit trail --------------------------------------------------------

ROLES_HELP = "producer | supervisor | artist | reviewer | client"


@user_app.command(name="add")
def user_add(
    name: Annotated[str, typer.Argument(help="The person's name as the audit trail shows it.")],
    role: Annotated[str, typer.Option("--role", "-r", help=ROLES_HELP)],
    by: Annotated[str, typer.Option("--by", help="A producer who adds them (default: this console).")] = "",
) -> None:
    """Add a person with a role."""
    with opened() as production:
        production.add_user(name, role, by=by)
    out.print(f"added {name} ({role.lower()})")


@user_app.command(name="role")
def user_role(
    name: Annotated[str, typer.Argument(help="The person.")],
    role: Annotated[str, typer.Argument(help=ROLES_HELP)],
    by: Annotated[str, typer.Option("--by", help="A producer who changes it (default: this console).")] = "",
) -> None:
    """Give a person another role."""
    with opened() as production:
        production.change_role(name, role, by=by)
    out.print(f"{name} is now {role.lower()}")


@user_app.command(name="list")
def user_list() -> None:
    """Everyone in the production and their role."""
    with opened() as production:
        table = Table("Name", "Role", "Active")
        for name, role, active in production.users():
            table.add_row(name, role, "yes" if active else "no")
    out.print(table)


AsOption = Annotated[
    str,
    typer.Option(
        "--as", envvar="SOUNDSTAGE_USER", help="The user deciding (default: $SOUNDSTAGE_USER).", show_default=False
    ),
]
NoteOption = Annotated[str, typer.Option("--note", "-m", help="A note that goes with the decision.")]
TokenOption = Annotated[
    str,
    typer.Option(
        "--token",
        envvar="SOUNDSTAGE_TOKEN",
        help="Your API token (soundstage user token NAME); required on a PostgreSQL production.",
        show_default=False,
    ),
]


def _decide(reference: str, action: Action, user: str, note: str, override: str = "", token: str = "") -> None:
    if not user and not token:
        raise ConfigError("who is deciding? give --as USER (or --token) or set SOUNDSTAGE_USER")
    with opened() as production:
        decision = production.decide(reference, action, by=user, note=note, override_reason=override, token=token)
    what = decision.take or decision.shot
    out.print(f"{what}: {decision.previous} -> {decision.status} (by {decision.by}, event {decision.event_id})")


@review_app.command(name="approve")
def review_approve(
    take: Annotated[str, typer.Argument(help="SHOT/NUMBER (or SHOT for its newest take).")],
    user: AsOption = "",
    note: NoteOption = "",
    override: Annotated[str, typer.Option(help="Why a take the checks failed is approved anyway.")] = "",
    token: TokenOption = "",
) -> None:
    """Approve a take (supervisor or producer)."""
    _decide(take, Action.APPROVE, user, note, override, token)


@review_app.command(name="request-changes")
def review_request_changes(
    shot: Annotated[str, typer.Argument(help="Shot code.")],
    user: AsOption = "",
    note: NoteOption = "",
    token: TokenOption = "",
) -> None:
    """Send a shot back to the artist (supervisor or producer)."""
    _decide(shot, Action.REQUEST_CHANGES, user, note, token=token)


@review_app.command(name="submit")
def review_submit(
    shot: Annotated[str, typer.Argument(help="Shot code.")],
    user: AsOption = "",
    note: NoteOption = "",
    token: TokenOption = "",
) -> None:
    """Submit a shot for review (artist, supervisor or producer)."""
    _decide(shot, Action.SUBMIT, user, note, token=token)


@review_app.command(name="final")
def review_final(
    shot: Annotated[str, typer.Argument(help="Shot code.")],
    user: AsOption = "",
    note: NoteOption = "",
    token: TokenOption = "",
) -> None:
    """Lock an approved shot as final (supervisor or producer)."""
    _decide(shot, Action.FINAL, user, note, token=token)


@review_app.command(name="note")
def review_note(
    target: Annotated[str, typer.Argument(help="SHOT or SHOT/NUMBER.")],
    body: Annotated[str, typer.Argument(help="The note.")],
    user: AsOption = "",
    frame: Annotated[int | None, typer.Option(min=0, max=MAX_ID, help="The frame it is about (0-based).")] = None,
    token: TokenOption = "",
) -> None:
    """Leave a note on a shot or a take."""
    if not user and not token:
        raise ConfigError("who is writing? give --as USER (or --token) or set SOUNDSTAGE_USER")
    with opened() as production:
        number = production.note(target, body, by=user, frame=frame, token=token)
    out.print(f"note {number} on {target.upper()}")


HeadOption = Annotated[
    list[str] | None,
    typer.Option("--head", help="A head hash kept from an earlier verify; it must still be in the trail."),
]


CutOption = Annotated[
    list[Path] | None,
    typer.Option("--cut", help="A cut's animatic: the audit head its content credentials carry must be in the trail."),
]


@audit_app.command(name="verify")
def audit_verify(head: HeadOption = None, cut: CutOption = None) -> None:
    """Check the audit trail: its hash chain, its signed checkpoints (and any --head or --cut), and
    that the shot statuses and approvals stored are what the events say; exit 1 if anything
    disagrees."""
    heads = [("--head", _head(value)) for value in head or ()]
    heads += [cut_head(file) for file in cut or ()]
    with opened() as production:
        check = production.verify_trail(heads=heads)
    if check.newest is not None:
        newest = check.newest
        out.print(
            f"checkpoint: {newest.events} event(s), head {newest.head_sha256}, "
            f"at {newest.at.isoformat()} ({len(check.anchors.checked) - len(heads)} checked: the newest of each day)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    for problem in check.problems:
        err.print(problem, markup=False, highlight=False, soft_wrap=True)
    current = check.trail[-1].sha256 if check.trail else "(empty)"
    if not check.intact:
        out.print(f"audit trail BROKEN: {len(check.problems)} problem(s) in {check.chain.events} event(s)")
        raise typer.Exit(1)
    out.print(f"audit trail intact: {check.chain.events} event(s), head {current}", highlight=False, soft_wrap=True)


@audit_app.command(name="checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint of the trail's head now (decisions write one themselves)."""
    with opened() as production:
        made = production.checkpoint()
    if made is None:
        out.print("the audit trail is empty: nothing to checkpoint")
        return
    out.print(
        f"checkpoint: {made.events} event(s), head {made.head_sha256}, at {made.at.isoformat()}",
        highlight=False,
        soft_wrap=True,
    )


def _head(value: str) -> str:
    """A head hash as the user typed it: 64 hex digits."""
    cleaned = value.strip().lower()
    if len(cleaned) != 64 or any(c not in "0123456789abcdef" for c in cleaned):
        raise ReviewError(f"--head {value!r}: not a sha256 head (64 hex digits, as audit verify prints)")
    return cleaned


@audit_app.command(name="log")
def audit_log(last: Annotated[int, typer.Option(min=1, help="How many of the newest events.")] = 50) -> None:
    """The newest events of the audit trail."""
    with opened() as production:
        _, trail = production.audit()
    table = Table("#", "Time (UTC)", "Who", "Role", "Action", "Subject", "Detail")
    for event in trail[-last:]:
        detail = ", ".join(f"{k}={v}" for k, v in event.detail.items())
        table.add_row(
            str(event.id), as_utc(event.at).strftime("%Y-%m-%d %H:%M:%S"), event.actor, event.role,
            event.action, event.subject, detail[:80],
        )  # fmt: skip
    out.print(table)


# -- the review room (web) ------------------------------------------------------------------


@user_app.command(name="password")
def user_password(
    name: Annotated[str, typer.Argument(help="The person.")],
    stdin: Annotated[bool, typer.Option("--stdin", help="Read the password from one line of stdin (scripts).")] = False,
) -> None:
    """Set a person's password for the review room (their open sessions end)."""
    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    with opened() as production:
        production.set_password(name, password)
    out.print(f"password set for {name}")


@user_app.command(name="token")
def user_token(name: Annotated[str, typer.Argument(help="The person the token acts as.")]) -> None:
    """Print a new API token for scripts (Authorization: Bearer TOKEN); it is shown only this once."""
    with opened() as production:
        token = production.issue_token(name)
    out.print(token, markup=False, highlight=False, soft_wrap=True)


# -- ending access: tokens, people, client links ---------------------------------------------

token_app = typer.Typer(help="API tokens: list and revoke.", no_args_is_help=True)
link_app = typer.Typer(help="Client links to playlists: list and withdraw.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(link_app, name="link")
ByOption = Annotated[str, typer.Option("--by", help="A producer who does it (default: this console).")]


@user_app.command(name="deactivate")
def user_deactivate(name: Annotated[str, typer.Argument(help="The person.")], by: ByOption = "") -> None:
    """Deactivate a person: their review-room sessions and API tokens end at once."""
    with opened() as production:
        production.deactivate_user(name, by=by)
    out.print(f"{name} deactivated: sessions and tokens ended")


@token_app.command(name="list")
def token_list() -> None:
    """Every API token: its id, the person it acts as, when it was made."""
    with opened() as production:
        table = Table("Id", "Person", "Made (UTC)")
        for token_id, name, made in production.tokens():
            table.add_row(str(token_id), name, as_utc(made).strftime("%Y-%m-%d %H:%M:%S"))
    out.print(table)


@token_app.command(name="revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", min=1, max=MAX_ID, help="The token's id (token list).")],
    by: ByOption = "",
) -> None:
    """Revoke an API token at once."""
    with opened() as production:
        name = production.revoke_token(token_id, by=by)
    out.print(f"token {token_id} of {name} revoked")


@link_app.command(name="list")
def link_list() -> None:
    """Every client link: its id, its playlist, when it expires, whether it is live."""
    with opened() as production:
        table = Table("Id", "Playlist", "Expires (UTC)", "Live")
        for share_id, playlist, expires, live in production.links():
            table.add_row(str(share_id), str(playlist), expires.strftime("%Y-%m-%d %H:%M:%S"), "yes" if live else "no")
    out.print(table)


@link_app.command(name="withdraw")
def link_withdraw(
    share_id: Annotated[int, typer.Argument(metavar="ID", min=1, max=MAX_ID, help="The link's id (link list).")],
    by: ByOption = "",
) -> None:
    """Withdraw a client link at once: it opens nothing, its guests' sessions end."""
    with opened() as production:
        production.withdraw_link(share_id, by=by)
    out.print(f"client link {share_id} withdrawn")


def _check_listen(host: str, port: int) -> None:
    """ConfigError unless a socket can listen on HOST:PORT now (uvicorn binds the same a moment
    later; it would otherwise print its own error after the start line and exit 3)."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except OSError as failure:
        reason = failure.strerror or str(failure)
        raise ConfigError(f"serve: cannot listen on {host}:{port}: {reason}") from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (sessions are in the database, so any serves anyone).")
    ] = 1,
) -> None:
    """Serve the review room (shot board, dailies, notes, approvals) on HOST:PORT."""
    import os

    import uvicorn

    from soundstage.web.app import FORM_KEY_VARIABLE, ROOT_VARIABLE, create_app

    root = (State.production_dir or Path.cwd()).resolve()
    _check_listen(host, port)  # a port in use or a host that is no address: one line, before uvicorn's
    review_room = create_app(root)  # opened here first, so a bad production fails before any worker starts
    # uvicorn believes X-Forwarded-For from 127.0.0.1 by default; here only named proxies are.
    proxies = review_room.state.production.settings.serve.trusted_proxies
    out.print(f"review room on http://{host}:{port} ({workers} worker{'s' if workers > 1 else ''}; Ctrl-C stops it)")
    options = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
        "server_header": False,  # no "server: uvicorn" on every answer: nothing to fingerprint by
    }
    if workers == 1:
        uvicorn.run(review_room, **options)
        return
    # Several processes: uvicorn starts each from an import string, the factory reading the root.
    # This process only supervises them: it lets go of the production first.
    review_room.state.production.close()
    os.environ[ROOT_VARIABLE] = str(root)
    # One login-form key for all the workers (a form from one is posted to any); a key already in
    # the environment is kept, so hosts behind one load balancer can share theirs.
    os.environ.setdefault(FORM_KEY_VARIABLE, review_room.state.login_form_key.hex())
    uvicorn.run("soundstage.web.app:from_environment", factory=True, workers=workers, **options)
