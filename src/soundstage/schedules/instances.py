"""Talent-scheduling instances: the problem in its plainest form, and the two published file formats.

A talent-scheduling instance is a set of scenes, each with a duration in days and the cast it
needs, and a daily cost per cast member. Each cast member is paid every day from the day of
their first scene to the day of their last, waiting days included. The cost of an order of
the scenes is

    total = sum over cast of daily cost x (days from their first scene to their last, inclusive)

which is the objective of the MiniZinc models and of ddo (``../shared/schedules/README.md``).
The *idle* cost is the total less what every cast member costs on the days they play, which
is the same for every order.

Two readers, both strict (a wrong count, a non-number, a ragged row or a stray line is a
``ScheduleError`` naming the file and line):

* MiniZinc data (``.dzn``): ``numScenes``, ``numActors``, ``ia`` (cast x scene 0/1 matrix,
  written ``[| ... | ... |]``), ``c`` (daily cost per cast member) and ``d`` (duration per
  scene). Other parameters in the file (a known solution ``s``, say) are read and ignored.
* Stuckey's plain text, as ddo ships it: a name line, the number of scenes, the number of
  cast, one row per cast member (0/1 per scene, then the daily cost), one line of durations.
  Blank lines are skipped; CRLF and tabs are whitespace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from soundstage.errors import ScheduleError

# An instance file is a few kilobytes; anything much bigger is not one.
MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TalentInstance:
    """Scenes with durations and cast, and a daily cost per cast member (whole numbers)."""

    name: str
    durations: tuple[int, ...]  # days per scene
    casts: tuple[frozenset[int], ...]  # per scene, the cast members (indices into cast_costs)
    cast_costs: tuple[int, ...]  # daily cost per cast member
    cast_names: tuple[str, ...] = ()  # optional, for reports; empty for the benchmark files

    def __post_init__(self) -> None:
        if len(self.durations) != len(self.casts):
            raise ValueError("one cast per scene")
        if any(d <= 0 for d in self.durations):
            raise ValueError("scene durations are positive")
        if any(c < 0 for c in self.cast_costs):
            raise ValueError("daily costs are not negative")
        members = range(len(self.cast_costs))
        if any(a not in members for cast in self.casts for a in cast):
            raise ValueError("cast members are indices into cast_costs")

    @property
    def scenes(self) -> int:
        return len(self.durations)

    @property
    def cast_size(self) -> int:
        return len(self.cast_costs)

    def cost(self, order: Sequence[int]) -> int:
        """The total cost of shooting the scenes in ``order`` (a permutation of scene indices)."""
        if sorted(order) != list(range(self.scenes)):
            raise ValueError(f"not an order of the {self.scenes} scenes: {list(order)}")
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        day = 0
        for scene in order:
            for member in self.casts[scene]:
                first.setdefault(member, day)
                last[member] = day + self.durations[scene]
            day += self.durations[scene]
        return sum(self.cast_costs[a] * (last[a] - first[a]) for a in first)

    def fixed_cost(self) -> int:
        """What the cast costs on the days they play: the same for every order."""
        return sum(self.durations[s] * sum(self.cast_costs[a] for a in cast) for s, cast in enumerate(self.casts))

    def idle_cost(self, order: Sequence[int]) -> int:
        """The cost of the days cast members wait (on hold) in ``order``."""
        return self.cost(order) - self.fixed_cost()


def read_instance(path: Path) -> TalentInstance:
    """Read a talent-scheduling instance: MiniZinc data for ``.dzn`` files, else ddo's text format."""
    text = _read_text(path)
    if path.suffix.lower() == ".dzn":
        return parse_dzn(text, path)
    return parse_ddo(text, path)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScheduleError("file not found", path=path) from None
    except IsADirectoryError:
        raise ScheduleError("is a folder, not an instance file", path=path) from None
    except OSError as error:
        raise ScheduleError(f"cannot read file: {error.strerror or error}", path=path) from None
    if len(data) > MAX_BYTES:
        raise ScheduleError(f"file is {len(data):,} bytes; an instance file is at most {MAX_BYTES:,}", path=path)
    if not data.strip():
        raise ScheduleError("file is empty", path=path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ScheduleError("not UTF-8 text", path=path, line=line) from None


# ----------------------------------------------------------------------------- MiniZinc data

_DZN_TOKEN = re.compile(r"\s+|%[^\n]*|(?P<token>\[\||\|\]|[A-Za-z_][A-Za-z0-9_]*|[-+]?[0-9][0-9.eE+-]*|\S)")


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    line: int


@dataclass(slots=True)
class _Value:
    """A parsed right-hand side: a number, a list, or a list of rows; with the line of each part."""

    line: int
    number: int | None = None
    items: list[int] | None = None
    item_lines: list[int] | None = None
    rows: list[list[int]] | None = None
    row_lines: list[int] | None = None


def _dzn_tokens(text: str, source: Path | str) -> Iterator[_Token]:
    line = 1
    position = 0
    while position < len(text):
        match = _DZN_TOKEN.match(text, position)
        assert match is not None  # \S matches any non-space character
        if match["token"] is not None:
            yield _Token(match["token"], line)
        line += match[0].count("\n")
        position = match.end()


def _whole(token: _Token, source: Path | str) -> int:
    if not re.fullmatch(r"[-+]?[0-9]+", token.text):
        raise ScheduleError(f"expected a whole number, found {token.text!r}", path=source, line=token.line)
    return int(token.text)


def parse_dzn(text: str, source: Path | str = "<dzn>") -> TalentInstance:
    """Parse MiniZinc talent-scheduling data (see the module docstring)."""
    tokens = list(_dzn_tokens(text, source))
    values: dict[str, _Value] = {}
    index = 0

    def expect(symbol: str) -> _Token:
        nonlocal index
        if index >= len(tokens):
            last = tokens[-1].line if tokens else 1
            raise ScheduleError(f"expected {symbol!r} at the end of the file", path=source, line=last)
        token = tokens[index]
        if token.text != symbol:
            raise ScheduleError(f"expected {symbol!r}, found {token.text!r}", path=source, line=token.line)
        index += 1
        return token

    while index < len(tokens):
        name = tokens[index]
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name.text):
            raise ScheduleError(f"expected a parameter name, found {name.text!r}", path=source, line=name.line)
        index += 1
        expect("=")
        value, index = _dzn_value(tokens, index, source)
        expect(";")
        if name.text in values:
            raise ScheduleError(f"{name.text} is given twice", path=source, line=name.line)
        values[name.text] = value

    def need(key: str) -> _Value:
        if key not in values:
            raise ScheduleError(f"{key} is missing", path=source)
        return values[key]

    def count(key: str) -> int:
        value = need(key)
        if value.number is None or value.number <= 0:
            raise ScheduleError(f"{key} must be a positive whole number", path=source, line=value.line)
        return value.number

    scenes, cast = count("numScenes"), count("numActors")
    matrix = need("ia")
    if matrix.rows is None or matrix.row_lines is None:
        raise ScheduleError("ia must be a matrix written [| ... | ... |]", path=source, line=matrix.line)
    if len(matrix.rows) != cast:
        raise ScheduleError(
            f"ia has {len(matrix.rows)} rows; numActors is {cast}", path=source, line=matrix.row_lines[-1]
        )
    for row, line in zip(matrix.rows, matrix.row_lines):
        if len(row) != scenes:
            raise ScheduleError(f"a row of ia has {len(row)} entries; numScenes is {scenes}", path=source, line=line)
        if any(v not in (0, 1) for v in row):
            raise ScheduleError("ia entries are 0 or 1", path=source, line=line)
    costs = _dzn_list(need("c"), "c", cast, "numActors", source)
    durations = _dzn_list(need("d"), "d", scenes, "numScenes", source)
    if any(c < 0 for c in costs):
        raise ScheduleError("daily costs in c must not be negative", path=source, line=need("c").line)
    if any(d <= 0 for d in durations):
        raise ScheduleError("scene durations in d must be positive", path=source, line=need("d").line)
    casts = tuple(frozenset(a for a in range(cast) if matrix.rows[a][s]) for s in range(scenes))
    return TalentInstance(Path(str(source)).stem, tuple(durations), casts, tuple(costs))


def _dzn_list(value: _Value, key: str, expected: int, counted_by: str, source: Path | str) -> list[int]:
    if value.items is None:
        raise ScheduleError(f"{key} must be a list [ ... ]", path=source, line=value.line)
    if len(value.items) != expected:
        raise ScheduleError(
            f"{key} has {len(value.items)} entries; {counted_by} is {expected}", path=source, line=value.line
        )
    return value.items


def _dzn_value(tokens: list[_Token], index: int, source: Path | str) -> tuple[_Value, int]:
    """One right-hand side starting at ``tokens[index]``; returns it and the index after it."""
    if index >= len(tokens):
        raise ScheduleError("a value is missing at the end of the file", path=source, line=tokens[-1].line)
    first = tokens[index]
    if first.text == "[|":
        rows: list[list[int]] = [[]]
        row_lines = [first.line]
        index += 1
        expect_number = True
        while True:
            if index >= len(tokens):
                raise ScheduleError("a matrix is not closed with |]", path=source, line=first.line)
            token = tokens[index]
            index += 1
            if token.text == "|]":
                if not rows[-1] and len(rows) > 1:
                    rows.pop()  # the last row may end with "|" before "|]"
                    row_lines.pop()
                return _Value(first.line, rows=rows, row_lines=row_lines), index
            if token.text == "|":
                rows.append([])
                row_lines.append(token.line)
                expect_number = True
            elif token.text == ",":
                if expect_number:
                    raise ScheduleError("an empty entry in a matrix", path=source, line=token.line)
                expect_number = True
            else:
                if not expect_number:
                    raise ScheduleError(f"expected ',' or '|', found {token.text!r}", path=source, line=token.line)
                if not rows[-1]:
                    row_lines[-1] = token.line
                rows[-1].append(_whole(token, source))
                expect_number = False
    if first.text == "[":
        items: list[int] = []
        item_lines: list[int] = []
        index += 1
        while True:
            if index >= len(tokens):
                raise ScheduleError("a list is not closed with ]", path=source, line=first.line)
            token = tokens[index]
            if token.text == "]" and not items:
                return _Value(first.line, items=items, item_lines=item_lines), index + 1
            items.append(_whole(token, source))
            item_lines.append(token.line)
            index += 1
            if index >= len(tokens):
                raise ScheduleError("a list is not closed with ]", path=source, line=first.line)
            separator = tokens[index]
            index += 1
            if separator.text == "]":
                return _Value(first.line, items=items, item_lines=item_lines), index
            if separator.text != ",":
                raise ScheduleError(f"expected ',' or ']', found {separator.text!r}", path=source, line=separator.line)
    return _Value(first.line, number=_whole(first, source)), index + 1


# ----------------------------------------------------------------------------- ddo text


def parse_ddo(text: str, source: Path | str = "<instance>") -> TalentInstance:
    """Parse Stuckey's plain-text talent-scheduling format, as ddo ships it (module docstring)."""
    lines = text.splitlines()  # CRLF, CR and LF alike
    content = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    if not content:
        raise ScheduleError("file is empty", path=source)
    (_, name), *rest = content
    if len(rest) < 2:
        raise ScheduleError("expected the number of scenes and of cast after the name line", path=source)

    def single(number: int, line: str, what: str) -> int:
        fields = line.split()
        if len(fields) != 1:
            raise ScheduleError(
                f"expected the {what} alone on the line, found {line.strip()!r}", path=source, line=number
            )
        value = _whole(_Token(fields[0], number), source)
        if value <= 0:
            raise ScheduleError(f"the {what} must be positive", path=source, line=number)
        return value

    scenes = single(*rest[0], "number of scenes")
    cast = single(*rest[1], "number of cast")
    rows = rest[2:]
    if len(rows) < cast + 1:
        last = rows[-1][0] if rows else rest[1][0]
        raise ScheduleError(
            f"expected {cast} cast rows and a line of durations, found {len(rows)} lines", path=source, line=last
        )
    costs: list[int] = []
    appears: list[list[int]] = []
    for number, line in rows[:cast]:
        fields = [_whole(_Token(f, number), source) for f in line.split()]
        if len(fields) != scenes + 1:
            raise ScheduleError(
                f"a cast row has {len(fields)} numbers; expected {scenes} scenes and a daily cost",
                path=source,
                line=number,
            )
        if any(v not in (0, 1) for v in fields[:scenes]):
            raise ScheduleError("scene entries of a cast row are 0 or 1", path=source, line=number)
        if fields[scenes] < 0:
            raise ScheduleError("a daily cost must not be negative", path=source, line=number)
        appears.append(fields[:scenes])
        costs.append(fields[scenes])
    number, line = rows[cast]
    durations = [_whole(_Token(f, number), source) for f in line.split()]
    if len(durations) != scenes:
        raise ScheduleError(f"{len(durations)} durations; the number of scenes is {scenes}", path=source, line=number)
    if any(d <= 0 for d in durations):
        raise ScheduleError("scene durations must be positive", path=source, line=number)
    if len(rows) > cast + 1:
        extra_number, extra = rows[cast + 1]
        raise ScheduleError(f"unexpected line after the durations: {extra.strip()!r}", path=source, line=extra_number)
    casts = tuple(frozenset(a for a in range(cast) if appears[a][s]) for s in range(scenes))
    return TalentInstance(name.strip(), tuple(durations), casts, tuple(costs))
