"""The schedule as production people speak of it: stages, cast, scenes to shoot, the calendar,
and the schedule that comes out (shoot days with their scenes, stage bookings, what it costs).

Money is ``Decimal`` (day rates, costs); the solvers work in whole cents. Dates are
``datetime.date``; a shoot day is a date the calendar allows (its days of the week, not a
blackout date). ``scene_work_from_script`` derives what each scene needs from a screenplay's
breakdown, as defaults that people then edit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from soundstage.errors import ScheduleError
from soundstage.script.breakdown import SceneBreakdown, break_down
from soundstage.script.model import Script

CENT = Decimal("0.01")


class StageKind(StrEnum):
    """What a stage is built for."""

    SOUND_STAGE = "sound-stage"
    LED_VOLUME = "led-volume"
    MOCAP = "mocap"
    VOICE_BOOTH = "voice-booth"
    ADR = "adr"


class Zone(StrEnum):
    """Inside or outside the studio zone (the thirty-mile zone in Los Angeles), which union
    rules and incentive programs treat differently."""

    IN = "in"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class DateRange:
    """Days from ``first`` to ``last``, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ScheduleError(f"date range {self.first}..{self.last} ends before it starts")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    def __str__(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    def days(self) -> Iterator[date]:
        day = self.first
        while day <= self.last:
            yield day
            day += timedelta(days=1)

    @classmethod
    def parse(cls, text: str) -> DateRange:
        """``2027-01-04..2027-01-29`` (or a single date) as a range; ScheduleError otherwise."""
        parts = text.strip().split("..")
        try:
            if len(parts) == 1:
                day = date.fromisoformat(parts[0].strip())
                return cls(day, day)
            if len(parts) == 2:
                return cls(date.fromisoformat(parts[0].strip()), date.fromisoformat(parts[1].strip()))
        except ValueError:
            pass
        raise ScheduleError(f"not a date range: {text!r}; expected FROM..TO as YYYY-MM-DD..YYYY-MM-DD")


MAX_STAGE_SQFT = 10_000_000
# The longest hold, booking or release of a stage: three years (a leap day included). A stage is
# claimed for a shoot, weeks to months, and a series books season by season; decades are a typo
# (2099 for 2029), and every day of a claim is drawn in the occupancy strip and the day counts.
MAX_BOOKING_DAYS = 3 * 365 + 1
MAX_TIME_LIMIT_S = 86_400.0  # a day of solving


def money(value: Decimal | int | str, what: str) -> Decimal:
    """An amount in whole cents; ScheduleError for negatives and fractions of a cent."""
    try:
        amount = Decimal(str(value).strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise ScheduleError(f"{what} must be an amount such as 1250.00, not {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ScheduleError(f"{what} must be a non-negative amount, not {value}")
    try:
        rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the context holds: no rent is that large
        raise ScheduleError(f"{what} {value} is too large an amount") from None
    if rounded != amount:
        raise ScheduleError(f"{what} {value} has fractions of a cent")
    return rounded


def cents(amount: Decimal) -> int:
    """Whole cents of an amount that ``money`` accepted."""
    return int((amount * 100).to_integral_value())


@dataclass(frozen=True, slots=True)
class StageBooking:
    """Days a stage is held or booked, and by whom. A firm booking by another production makes
    the stage unavailable on those days; a hold is a pencilled claim that does not."""

    stage: str
    dates: DateRange
    holder: str
    firm: bool = True  # booked; False: on hold

    @property
    def status(self) -> str:
        return "booked" if self.firm else "hold"


@dataclass(frozen=True, slots=True)
class Stage:
    """A stage to rent: rented from its first day in use to its last (a stage costs like a
    cast member whose day rate is its rent)."""

    name: str
    kind: StageKind
    size_sqft: int
    zone: Zone
    day_rate: Decimal
    available: DateRange | None = None  # None: any day
    bookings: tuple[StageBooking, ...] = ()  # the stage's calendar: others' holds and bookings

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ScheduleError("a stage needs a name")
        # The upper bound keeps a typo (or an attack) out of the database's 64-bit integers; the
        # largest stages in use are under 100,000 sq ft.
        if not 0 < self.size_sqft <= MAX_STAGE_SQFT:
            raise ScheduleError(
                f"stage {self.name}: size must be a positive number of square feet up to {MAX_STAGE_SQFT:,}"
            )
        object.__setattr__(self, "day_rate", money(self.day_rate, f"stage {self.name}: day rate"))

    def blocked_on(self, day: date, production: str = "") -> bool:
        """Whether the stage cannot be used on ``day``: outside its availability, or booked by
        a production other than ``production``."""
        if self.available is not None and day not in self.available:
            return True
        return any(b.firm and b.holder != production and day in b.dates for b in self.bookings)


@dataclass(frozen=True, slots=True)
class CastMember:
    """A cast member: paid ``day_rate`` on every shoot day from their first scene to their last."""

    name: str
    day_rate: Decimal
    available: DateRange | None = None  # None: any day
    blackout: frozenset[date] = frozenset()  # days they cannot work (inside the window too)
    number: int = 0  # the cast number on the stripboard (1 for the lead); 0 until numbered
    travels: bool = False  # flown in: a travel day before their first work day and after their last

    def __post_init__(self) -> None:
        object.__setattr__(self, "day_rate", money(self.day_rate, f"cast {self.name}: day rate"))

    def can_work(self, day: date) -> bool:
        return (self.available is None or day in self.available) and day not in self.blackout


@dataclass(frozen=True, slots=True)
class SceneWork:
    """What one scene needs to be shot (or recorded, or captured): a stage of some kind (None
    when it is shot on location), its cast, its length in page eighths, its set and where the
    company has to be, and the strip's INT/EXT and DAY/NIGHT."""

    number: str
    stage_kind: StageKind | None
    cast: tuple[str, ...]
    eighths: int
    set: str
    location: str
    int_ext: str = "INT"  # INT, EXT or INT/EXT
    day_night: str = "DAY"  # DAY or NIGHT
    heading: str = ""

    def __post_init__(self) -> None:
        if self.eighths <= 0:
            raise ScheduleError(f"scene {self.number}: its length must be at least one eighth")

    @property
    def exterior(self) -> bool:
        return self.int_ext.upper() != "INT"

    @property
    def night(self) -> bool:
        return self.day_night.upper() == "NIGHT"


@dataclass(frozen=True, slots=True)
class Calendar:
    """Which dates are shoot days: from ``start``, the first ``days_per_week`` days of each
    Monday-to-Sunday week (5: Monday to Friday), except the blackout dates (holidays, dark days)."""

    start: date
    days_per_week: int = 5
    blackout: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if not 1 <= self.days_per_week <= 7:
            raise ScheduleError(f"days per week must be 1 to 7, not {self.days_per_week}")

    def is_shoot_day(self, day: date) -> bool:
        return day >= self.start and day.weekday() < self.days_per_week and day not in self.blackout

    def shoot_days(self, count: int) -> list[date]:
        """The first ``count`` shoot days."""
        days: list[date] = []
        day = self.start
        while len(days) < count:
            if self.is_shoot_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def shoot_days_until(self, last: date) -> list[date]:
        """Every shoot day from the start up to ``last`` included."""
        days = []
        day = self.start
        while day <= last:
            if self.is_shoot_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """What the optimiser packs into a day and what it costs to move the company."""

    eighths_per_day: int = 24  # three pages a day
    company_move_cost: Decimal = Decimal(0)  # each time consecutive shoot days change location
    crew_day_rate: Decimal = Decimal(0)  # the company's cost per shoot day, from the start to the last
    one_location_per_day: bool = True  # the company works at one location a day
    time_limit: float = 30.0  # seconds for CP-SAT
    workers: int = 2

    def __post_init__(self) -> None:
        if self.eighths_per_day <= 0:
            raise ScheduleError("eighths per day must be positive")
        # Written so that NaN fails it too: CP-SAT took NaN as no limit, and -1 as "none found".
        if not 0 < self.time_limit <= MAX_TIME_LIMIT_S:
            raise ScheduleError(
                f"time limit must be more than 0 and at most {MAX_TIME_LIMIT_S:g} seconds, not {self.time_limit}"
            )
        object.__setattr__(self, "company_move_cost", money(self.company_move_cost, "company move cost"))
        object.__setattr__(self, "crew_day_rate", money(self.crew_day_rate, "crew day rate"))


@dataclass(frozen=True, slots=True)
class ScheduleProblem:
    """Everything the production model needs: the work, the people, the stages, the calendar,
    the days people pinned (scene number -> date) and the settings."""

    scenes: tuple[SceneWork, ...]
    cast: tuple[CastMember, ...]
    stages: tuple[Stage, ...]
    calendar: Calendar
    pins: Mapping[str, date] = field(default_factory=dict)
    settings: ScheduleSettings = field(default_factory=ScheduleSettings)
    production: str = ""  # the holder name of this production's own stage bookings

    def __post_init__(self) -> None:
        numbers = [s.number for s in self.scenes]
        duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
        if duplicates:
            raise ScheduleError(f"scene number {duplicates[0]} is used twice")
        names = [c.name for c in self.cast]
        if len(set(names)) != len(names):
            raise ScheduleError(f"cast member {next(n for n in names if names.count(n) > 1)} is listed twice")
        stage_names = [s.name for s in self.stages]
        if len(set(stage_names)) != len(stage_names):
            raise ScheduleError(f"stage {next(n for n in stage_names if stage_names.count(n) > 1)} is listed twice")
        known = set(names)
        for scene in self.scenes:
            for member in scene.cast:
                if member not in known:
                    raise ScheduleError(f"scene {scene.number}: {member} is not in the cast list")
        for number in self.pins:
            if number not in set(numbers):
                raise ScheduleError(f"pinned scene {number} is not in the schedule")

    def scene(self, number: str) -> SceneWork:
        for scene in self.scenes:
            if scene.number == number:
                return scene
        raise ScheduleError(f"scene {number} is not in the schedule")

    def member(self, name: str) -> CastMember:
        return next(c for c in self.cast if c.name == name)


@dataclass(frozen=True, slots=True)
class ShootDay:
    """One day of the schedule: its date, the scenes in shooting order, the stage of each
    scene shot on a stage, and where the company is."""

    index: int  # 0-based shoot day
    date: date
    scenes: tuple[str, ...]
    stage_of: Mapping[str, str]  # scene number -> stage name (scenes on location are absent)
    location: str

    @property
    def stages(self) -> tuple[str, ...]:
        """The stages in use this day, in order of first use."""
        return tuple(dict.fromkeys(self.stage_of[s] for s in self.scenes if s in self.stage_of))


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """What the schedule pays, by cast member, by stage, for company moves and crew days."""

    cast: Mapping[str, Decimal]
    stages: Mapping[str, Decimal]
    moves: Decimal
    crew: Decimal

    @property
    def total(self) -> Decimal:
        return sum(self.cast.values(), Decimal(0)) + sum(self.stages.values(), Decimal(0)) + self.moves + self.crew


@dataclass(frozen=True, slots=True)
class Schedule:
    """A solved schedule: shoot days, this production's stage bookings (first to last use of
    each stage), the cost, and how good it is proven to be."""

    days: tuple[ShootDay, ...]
    bookings: tuple[StageBooking, ...]
    cost: CostBreakdown
    optimal: bool
    lower_bound: Decimal  # proven: no schedule of this problem costs less
    status: str = ""  # the solver's word: OPTIMAL, FEASIBLE, or how it was made
    seconds: float = 0.0

    @property
    def gap(self) -> float:
        total = self.cost.total
        return 0.0 if total == 0 else float((total - self.lower_bound) / total)

    def day_of(self, scene: str) -> ShootDay:
        for day in self.days:
            if scene in day.scenes:
                return day
        raise ScheduleError(f"scene {scene} is not in the schedule")

    @property
    def stage_of(self) -> dict[str, str]:
        return {scene: stage for day in self.days for scene, stage in day.stage_of.items()}


# ----------------------------------------------------------------------------- from a script

# Times of day that are night for the strip colour; CONTINUOUS, LATER and the like carry on
# whatever the scene before was.
_NIGHT = re.compile(r"\b(NIGHT|EVENING|DUSK|MIDNIGHT|NIGHTFALL|TWILIGHT|SUNSET)\b")
_CARRIES_ON = re.compile(r"^(CONTINUOUS|LATER|SAME|SIMULTANEOUS|MOMENTS LATER|A FEW MOMENTS LATER)\b")
STUDIO = "STUDIO"  # where the company is for every scene shot on a stage


def scene_work_from_script(
    script: Script,
    breakdown: Sequence[SceneBreakdown] | None = None,
    *,
    interior: StageKind | None = StageKind.SOUND_STAGE,
    exterior: StageKind | None = None,
) -> list[SceneWork]:
    """Defaults for every scene from the screenplay and its breakdown: its speaking cast, its
    length in eighths, its set (the heading's location) and INT/EXT and DAY/NIGHT from the
    heading. Interiors go on a stage of kind ``interior`` and exteriors on ``exterior``
    (None: on location, where the company moves to the heading's location). An animation
    crew passes ``StageKind.VOICE_BOOTH`` (or ``MOCAP``) for both."""
    sheets = list(breakdown) if breakdown is not None else break_down(script)
    scenes = []
    previous_night = False
    for sheet in sheets:
        int_ext = sheet.int_ext or "INT"
        time_of_day = sheet.time_of_day.upper()
        if _NIGHT.search(time_of_day):
            night = True
        elif _CARRIES_ON.match(time_of_day):
            night = previous_night
        else:
            night = False
        previous_night = night
        kind = interior if int_ext == "INT" else exterior
        place = sheet.location or sheet.heading.strip() or f"SCENE {sheet.index + 1}"
        scenes.append(
            SceneWork(
                number=sheet.number or str(sheet.index + 1),
                stage_kind=kind,
                cast=tuple(sheet.speaking),
                eighths=max(1, sheet.eighths),
                set=place,
                location=STUDIO if kind is not None else place,
                int_ext=int_ext,
                day_night="NIGHT" if night else "DAY",
                heading=sheet.heading,
            )
        )
    return scenes


def cast_from_scenes(scenes: Sequence[SceneWork], day_rate: Decimal | Mapping[str, Decimal]) -> list[CastMember]:
    """The cast list of ``scenes``, numbered as a stripboard numbers them: 1 for whoever is in
    the most scenes, ties by first appearance. ``day_rate`` is one rate or a rate per name."""
    counts: dict[str, int] = {}
    for scene in scenes:
        for name in scene.cast:
            counts[name] = counts.get(name, 0) + 1
    ranked = sorted(counts, key=lambda name: -counts[name])  # stable: first appearance breaks ties
    members = []
    for number, name in enumerate(ranked, start=1):
        rate = day_rate[name] if isinstance(day_rate, Mapping) else day_rate
        members.append(CastMember(name=name, day_rate=rate, number=number))
    return members
