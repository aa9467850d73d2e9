"""The README and docs/ name only commands and options that the command line has.

Every ``soundstage ...`` in inline code or in a shell block is walked down the real Typer app:
each word that names a subcommand must be one, and each ``--option`` must belong to the command
it is given to (or to ``soundstage`` itself). The README's table must list every top-level command.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer.main

from soundstage.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CLI = typer.main.get_command(app)
# Options of `soundstage` itself, given before the command name.
GLOBAL_WITH_VALUE = {"-p", "--production"}
GLOBAL_FLAGS = {"--verbose", "-v", "--version", "--help"}


def _shell_lines(text: str) -> list[str]:
    """The command lines of the fenced shell blocks, comments and prompts removed."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            line = re.sub(r"\s#\s.*$", "", line).strip().removeprefix("$ ").strip()
            lines.extend(part.strip() for part in re.split(r"&&|;|\|\||\s\|\s", line))
    return lines


def _invocations(path: Path) -> list[str]:
    """Every `soundstage ...` the document shows: inline code spans and shell lines."""
    text = path.read_text(encoding="utf-8")
    found = [span for span in re.findall(r"`(soundstage\s[^`]*)`", text)]
    found += [line for line in _shell_lines(text) if line.startswith("soundstage ")]
    return found


def _words(invocation: str) -> list[str]:
    invocation = invocation.replace("\\|", " ").replace("\\\n", " ")
    try:
        words = shlex.split(invocation)
    except ValueError:  # a placeholder such as [--prompt "..."] cut short in prose
        words = invocation.split()
    cleaned = []
    for word in words[1:]:
        word = word.strip("[]{}(),")
        if word and word not in {"...", "|", "/"}:
            cleaned.append(word)
    return cleaned


def _option_names(command: object) -> set[str]:
    names = {"--help"}
    for param in command.params:
        names.update(getattr(param, "opts", []))
        names.update(getattr(param, "secondary_opts", []))
    return names


def _check(invocation: str) -> str | None:
    """None when the invocation fits the app, else what does not."""
    words = _words(invocation)
    while words and words[0].startswith("-"):
        option = words.pop(0).split("=")[0]
        if option in GLOBAL_WITH_VALUE:
            words = words[1:]
        elif option not in GLOBAL_FLAGS:
            return f"{option!r} is not an option of soundstage"
    # Typer 0.29 carries its own copy of click, so groups are told by their attributes.
    command = CLI
    path = ["soundstage"]
    while hasattr(command, "commands") and words:
        name = words[0]
        if name in command.commands:
            command = command.commands[name]
            path.append(words.pop(0))
        elif "queue" in command.commands and path[-1] == "take":
            command = command.commands["queue"]  # `take SHOT` is `take queue SHOT` (the _TakeGroup)
        elif name.isupper() or name.startswith("-"):
            return None  # a placeholder such as COMMAND, or options of the group itself
        else:
            return f"{' '.join(path)} has no command {name!r}"
    if hasattr(command, "commands"):
        return None
    options = _option_names(command)
    for word in words:
        if word == "--":
            break
        if not word.startswith("-") or re.match(r"-\d", word) or word == "-":
            continue
        for option in word.split("=")[0].split("/"):  # --real-time/--no-real-time names both
            if option not in options and option not in GLOBAL_FLAGS:
                return f"{' '.join(path)} has no option {option!r}"
    return None


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_command_the_docs_show_exists(doc: Path) -> None:
    invocations = _invocations(doc)
    wrong = [f"{doc.name}: `{call}`: {why}" for call in invocations if (why := _check(call))]
    assert not wrong, "\n".join(wrong)


def test_the_checker_catches_a_made_up_option_and_command() -> None:
    assert _check("soundstage cut -o out --scene 3") is None
    assert _check("soundstage -p pilot take 003_0030 --count 2") is None
    assert "no option '--frobnicate'" in _check("soundstage cut --frobnicate")
    assert "no command 'teleport'" in _check("soundstage shot teleport 003_0030")


def test_the_readme_table_lists_every_command() -> None:
    rows = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    listed = set(re.findall(r"`soundstage ([a-z][a-z-]*)", "\n".join(rows)))
    commands = {name for name, command in CLI.commands.items() if not command.hidden}
    missing = sorted(commands - listed)
    assert not missing, f"the table in README.md does not name: {', '.join(missing)}"
