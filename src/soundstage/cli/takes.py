"""Commands of takes and their checks: bible check, take (queue, reproduce, cancel, jobs, retry),
takes, work, check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from soundstage.cli.app import (
    MAX_ID,
    State,
    app,
    bars,
    bible_app,
    err,
    opened,
    out,
    take_app,
    user,
)
from soundstage.errors import ConfigError
from soundstage.project import Production, TakeOptions
from soundstage.project.takes import run_jobs

# -- takes ---------------------------------------------------------------------------------


@bible_app.command(name="check")
def bible_check() -> None:
    """Report what the bible lacks: descriptions and reference images. Exit 1 if anything is missing."""
    with opened() as production:
        problems = production.bible_check()
    for line in problems:
        out.print(f"  {line}", markup=False, highlight=False)
    out.print(f"{len(problems)} missing" if problems else "The bible is complete.")
    if problems:
        raise typer.Exit(1)


@take_app.command(name="queue", hidden=True)
def take_queue(
    shot: Annotated[str, typer.Argument(help="Shot code, e.g. 012_0030.")],
    backend: Annotated[
        str, typer.Option(help="A backend: previs, diffusers, comfyui or a plugin's (default from soundstage.toml).")
    ] = "",
    seed: Annotated[int | None, typer.Option(min=0, help="Seed of the first take; the next ones count up.")] = None,
    prompt: Annotated[str, typer.Option(help="Your words; they lead the composed prompt.")] = "",
    negative: Annotated[str, typer.Option(help="Words to avoid, before the bible's.")] = "",
    strength: Annotated[
        float | None, typer.Option(min=0, max=1, help="img2img from the storyboard: 0 keeps it, 1 ignores it.")
    ] = None,
    steps: Annotated[int | None, typer.Option(min=1, max=1000, help="Sampling steps.")] = None,
    guidance: Annotated[float | None, typer.Option(min=0, max=50, help="Guidance scale.")] = None,
    count: Annotated[int, typer.Option(min=1, max=64, help="How many takes.")] = 1,
    frames: Annotated[
        int | None, typer.Option(min=1, max=100_000, help="A moving shot's take: this many frames (default: all).")
    ] = None,
    by: Annotated[str, typer.Option(help="Who asks for them (default: $SOUNDSTAGE_USER or your login).")] = "",
    run: Annotated[
        bool, typer.Option("--run/--no-run", help="Work the queue now (default) or leave it to soundstage work.")
    ] = True,
    performance: Annotated[
        list[str] | None,
        typer.Option(
            metavar="PERFORMER=FILE",
            help="A recorded performance the takes alter (a sound file: the voice; a picture: the likeness); "
            "repeatable. Approval then needs the performer's consent unless --alteration is an excepted edit.",
        ),
    ] = None,
    alteration: Annotated[
        str,
        typer.Option(
            help="Why the takes change the recorded performance: performance (what the performer did; needs "
            "consent), or an edit the SAG-AFTRA terms except: cosmetics, wardrobe, noise-reduction, timing, "
            "continuity, pitch, effects, ratings, dialogue."
        ),
    ] = "performance",
) -> None:
    """Queue takes of SHOT (run as: soundstage take SHOT [options])."""
    options = TakeOptions(
        backend=backend, seed=seed, prompt=prompt, negative=negative, strength=strength, steps=steps,
        guidance=guidance, count=count, requested_by=by or user(), frames=frames,
        performances=tuple(_performance(given) for given in performance or []), alteration=alteration.strip(),
    )  # fmt: skip
    with opened() as production:
        jobs = production.queue_takes(shot, options)
        out.print(f"Queued {len(jobs)} take(s) of {shot.upper()}: jobs {', '.join(map(str, jobs))}")
        if run:
            failed = _work(production, None)
            _print_takes(production, shot)
            if failed:
                raise typer.Exit(1)


def _performance(given: str) -> tuple[str, Path]:
    """(performer, recording) from ``--performance "Ada Lind=take3.mp4"``."""
    performer, equals, file = given.partition("=")
    if not equals or not performer.strip() or not file.strip():
        raise ConfigError(f'--performance {given!r}: expected PERFORMER=FILE, e.g. "Ada Lind=takes/sc3_t2.mp4"')
    return performer.strip(), Path(file.strip())


@take_app.command(name="reproduce")
def take_reproduce(take: Annotated[str, typer.Argument(help="SHOT/NUMBER, e.g. 012_0030/2.")]) -> None:
    """Run a take's recipe again and say whether the bytes match (a clip: the pictures, frame by
    frame, and the first frame that differs). Exit 1 if they differ."""
    with opened() as production:
        again = production.reproduce_take(take)
    if again.same:
        out.print(f"{take}: reproduced, bytes identical ({again.path.name})")
        return
    if again.identical_pictures:
        # Container tags (a muxer's version) may change the bytes and not one picture.
        out.print(
            f"{take}: reproduced, the same pictures frame for frame (the file's bytes differ: now {again.sha256})"
        )
        return
    if again.first_differing_frame is not None and again.path.suffix != ".png":
        out.print(
            f"{take}: differs from frame {again.first_differing_frame}: stored {again.path.stem}, now {again.sha256}"
        )
    else:
        out.print(f"{take}: differs: stored {again.path.stem}, now {again.sha256}")
    raise typer.Exit(1)


@take_app.command(name="cancel")
def take_cancel(
    jobs: Annotated[
        list[int] | None, typer.Argument(min=1, max=MAX_ID, help="Job ids (soundstage takes SHOT shows them).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Cancel every queued and running job.")] = False,
) -> None:
    """Cancel queued or running jobs; a running one finishes its image but records no take."""
    if not jobs and not all_:
        raise ConfigError("take cancel: name job ids or give --all")
    with opened() as production:
        cancelled = production.cancel(None if all_ else list(jobs or []))
    out.print(f"Cancelled {cancelled} job(s)")


@take_app.command(name="jobs")
def take_jobs(
    state: Annotated[
        list[str] | None,
        typer.Option("--state", help="Only jobs in this state (queued, running, failed, dead...); repeatable."),
    ] = None,
) -> None:
    """List the take queue's jobs not done yet (all shots): state, attempts, worker and error."""
    with opened() as production:
        listed = production.jobs(list(state) if state else None)
    table = Table("Job", "Shot", "State", "Attempts", "Worker", "Error")
    for job in listed:
        waits = f" (retry at {job.retry_at:%H:%M:%S})" if job.retry_at and job.state == "queued" else ""
        table.add_row(str(job.id), job.shot, job.state + waits, str(job.attempts), job.worker, job.error)
    out.print(table)
    out.print(f"{len(listed)} job(s)")


@take_app.command(name="retry")
def take_retry(
    jobs: Annotated[
        list[int] | None, typer.Argument(min=1, max=MAX_ID, help="Job ids (soundstage take jobs shows them).")
    ] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Every failed and dead job.")] = False,
    by: Annotated[str, typer.Option(help="Who re-queues them (default: $SOUNDSTAGE_USER or your login).")] = "",
) -> None:
    """Put failed or dead jobs back in the queue with fresh attempts (soundstage work runs them)."""
    if not jobs and not failed:
        raise ConfigError("take retry: name job ids or give --failed")
    with opened() as production:
        retried = production.retry_jobs(None if failed and not jobs else list(jobs or []), by or user())
    out.print(f"Re-queued {len(retried)} job(s)" + (f": {', '.join(map(str, retried))}" if retried else ""))


@app.command()
def takes(shot: Annotated[str, typer.Argument(help="Shot code, e.g. 012_0030.")]) -> None:
    """List a shot's takes with their recipes, and its jobs not done yet."""
    with opened() as production:
        _print_takes(production, shot)


@app.command()
def work(
    workers: Annotated[int | None, typer.Option("--workers", "-n", min=1, max=64, help="Worker processes.")] = None,
    single: Annotated[bool, typer.Option("--single", hidden=True)] = False,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="ADDRESS",
            help="Run the jobs as tasks on the Ray cluster at ADDRESS (host:6379, ray://host:10001, auto); "
            "N is then the tasks in flight at once. Default: [executor] in soundstage.toml.",
        ),
    ] = None,
) -> None:
    """Work the take queue until it is empty, with N worker processes (or Ray tasks). Exit 1 if a take failed."""
    if single:
        run_jobs(State.production_dir or Path.cwd())
        return
    with opened() as production:
        failed = _work(production, workers, ray=ray)
    if failed:
        raise typer.Exit(1)


def _work(production: Production, workers: int | None, *, ray: str | None = None) -> int:
    """Work the queue with a progress bar; returns how many takes failed (a script running
    `take` or `work` sees them in the exit code, 1)."""
    with bars() as progress:
        task = progress.add_task("takes", total=None)
        report = production.work(
            workers, lambda done, total: progress.update(task, completed=done, total=total), ray=ray
        )
    out.print(f"{report.takes} take(s) made" + (f", {report.failed} failed" if report.failed else ""))
    return report.failed


def _checks_summary(production: Production, take: str) -> str:
    """A take's findings in a few words: "pass", "warn: style", "fail: composition, character",
    "not checked: style" (a check raised), "not checked" (none ran)."""
    from soundstage.checks.findings import Verdict, crashed, take_verdict  # production.findings loaded OpenCV already

    findings = production.findings(take)
    verdict = take_verdict(findings)
    if verdict is Verdict.PASS:
        return f"[{VERDICT_STYLE[verdict.value]}]pass[/]"
    names = sorted(
        {f.check for f in findings if f.verdict is verdict and (verdict is not Verdict.NOT_CHECKED or crashed(f))}
    )
    word = f"[{VERDICT_STYLE[verdict.value]}]{_verdict_word(verdict.value)}[/]"
    return f"{word}: {', '.join(names)}" if names else word


def _print_takes(production: Production, shot: str) -> None:
    table = Table("Take", "State", "Backend", "Seed", "By", "Checks", "Prompt", "File")
    for take in production.takes(shot):
        r = take.recipe
        table.add_row(
            take.name, take.state, r.backend, str(r.seed), r.requested_by,
            _checks_summary(production, take.name) if take.path else "",
            r.prompt[:60], str(take.path) if take.path else take.error,
        )  # fmt: skip
    out.print(table)


# -- intent checks -------------------------------------------------------------------------------

# By stored verdict value; "skipped" is Verdict.NOT_CHECKED, shown as "not checked".
VERDICT_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "skipped": "dim"}


def _verdict_word(value: str) -> str:
    """A stored verdict value as people read it: "skipped" is "not checked"."""
    return "not checked" if value == "skipped" else value


@app.command()
def check(
    shots: Annotated[list[str] | None, typer.Argument(help="Shot codes (all their takes).", show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every take of every shot.")] = False,
) -> None:
    """Run the intent checks again (composition, character, style, continuity, duplicates) and
    print the findings; a clip take on every n-th frame ([checks] clip_every) and over time
    (flicker, identity, motion), each finding with its frames. Exit 1 when any take fails a
    check or is not checked (a check raised)."""
    if not shots and not all_:
        raise ConfigError("soundstage check: name shots (soundstage check 012_0030) or give --all")
    with opened() as production, bars() as progress:
        task = progress.add_task("checks", total=None)
        report = production.check(shots or (), progress=lambda done, total: progress.update(task, completed=done))
    from soundstage.checks import Verdict, take_verdict  # OpenCV: the checks loaded it already
    from soundstage.checks.findings import frames_label

    table = Table("Take", "Check", "Subject", "Frames", "Score", "Verdict", "Reason")
    for take, findings in report.findings.items():
        for finding in findings:
            verdict = finding.verdict.value
            table.add_row(
                take, finding.check, finding.subject, frames_label(finding.frames), f"{finding.score:.2f}",
                f"[{VERDICT_STYLE[verdict]}]{_verdict_word(verdict)}[/]", finding.reason,
            )  # fmt: skip
    out.print(table)
    for line in report.not_checked:
        err.print(f"not checked: {line}", markup=False, highlight=False)
    verdicts = [take_verdict(fs) for fs in report.findings.values()]
    failed, unchecked = verdicts.count(Verdict.FAIL), verdicts.count(Verdict.NOT_CHECKED)
    out.print(
        f"{len(report.findings)} take(s) checked, {failed} failed"
        + (f", {unchecked} not checked (a check could not run)" if unchecked else "")
    )
    # Not checked is not a pass: a script gating on the exit code must not wave such a take through.
    if failed or unchecked:
        raise typer.Exit(1)
