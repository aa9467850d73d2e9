"""Production settings: ``soundstage.toml`` beside the database, overridable from the environment.

Environment variables use the prefix ``SOUNDSTAGE_`` and ``__`` between levels, e.g.
``SOUNDSTAGE_DATABASE_URL`` or ``SOUNDSTAGE_PLAN__TIMING__WORDS_PER_SECOND=2.2``.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from soundstage.errors import ConfigError
from soundstage.guardrails.model import Policy
from soundstage.plan.model import Angle, LensMm, Move, ShotSize

SETTINGS_FILE = "soundstage.toml"
# Secrets are read from the environment only, never from soundstage.toml (a folder people share).
PASSPHRASE_VARIABLE = "SOUNDSTAGE_KEY_PASSPHRASE"
DATABASE_PASSWORD_VARIABLE = "SOUNDSTAGE_DATABASE_PASSWORD"
SECRETS = {"key_passphrase": PASSPHRASE_VARIABLE, "database_password": DATABASE_PASSWORD_VARIABLE}

# -- frame rates ---------------------------------------------------------------------------
# The NTSC rates run 1000/1001 slower than their whole-number names (24000/1001 is "23.976").
NTSC = 1001
MAX_FPS = 120


def frame_rate(value: object) -> Fraction:
    """A frame rate as an exact fraction: ``24``, ``"25"``, ``"24000/1001"``, or the decimal
    names the trade uses, ``23.976``, ``29.97``, ``59.94`` (read as the NTSC fractions, since a
    decimal cannot say 24000/1001 exactly). ValueError when it is not a rate."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a frame rate")
    if isinstance(value, Fraction | int):
        rate = Fraction(value)
    elif isinstance(value, float | str | Decimal):
        text = str(value).strip()
        try:
            rate = Fraction(text) if "/" in text else _named_rate(Decimal(text))
        except (ValueError, ZeroDivisionError, InvalidOperation):
            raise ValueError(f"{value!r} is not a frame rate (24, 25, 23.976 or 24000/1001)") from None
    else:
        raise ValueError(f"{value!r} is not a frame rate")
    if not 0 < rate <= MAX_FPS:
        raise ValueError(f"{value!r}: a frame rate runs from above 0 to {MAX_FPS} frames a second")
    return rate


def _named_rate(decimal: Decimal) -> Fraction:
    """A decimal rate: a whole number as it is; 23.976, 29.97, 59.94 (within the rounding of
    their names) as N*1000/1001; any other decimal exactly."""
    if not decimal.is_finite():
        raise ValueError(str(decimal))
    exact = Fraction(decimal)
    if exact.denominator == 1:
        return exact
    whole = round(exact * NTSC / 1000)
    ntsc = Fraction(whole * 1000, NTSC)
    # The names are rounded to two or three decimals: 23.976, 29.97, 59.94, 119.88.
    return ntsc if whole > 0 and abs(ntsc - exact) < Fraction(1, 200) else exact


def timecode_rate(rate: Fraction) -> int:
    """The frames a second that non-drop timecode counts at ``rate``: 24 for 23.976, 30 for
    29.97 (SMPTE 12M non-drop: the label runs a little slower than the wall clock)."""
    return max(1, round(rate))


def timecode_text(frames: int, rate: Fraction | int) -> str:
    """``frames`` from zero as non-drop timecode HH:MM:SS:FF at ``rate``."""
    seconds, frame = divmod(frames, timecode_rate(Fraction(rate)))
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{frame:02d}"


def rate_text(rate: Fraction) -> str:
    """A rate as settings and recipes write it: "24", or "24000/1001"."""
    return str(Fraction(rate))


def rate_label(rate: Fraction) -> str:
    """A rate as people say it: "24", "23.976", "29.97"."""
    return f"{float(rate):.3f}".rstrip("0").rstrip(".")


# A rate in settings: read by ``frame_rate``, written back as its text ("24000/1001").
FrameRate = Annotated[Fraction, BeforeValidator(frame_rate), PlainSerializer(rate_text, return_type=str)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _PluginTables(_Section):
    """A section whose plugins bring their own tables (``[generate.sketch]``, ``[checks.blank]``):
    any other key is still a mistake, so a mistyped setting is not taken silently."""

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="after")
    def _only_tables(self) -> _PluginTables:
        for key, value in (self.model_extra or {}).items():
            if not isinstance(value, dict):
                raise ValueError(f"{key}: not a setting here (a plugin's settings are a table: [..{key}])")
        return self

    def options(self, name: str) -> dict[str, Any]:
        """The table ``[<section>.<name>]`` of a built-in or a plugin, {} when there is none."""
        value = getattr(self, name, None) if name in type(self).model_fields else (self.model_extra or {}).get(name)
        return dict(value) if isinstance(value, dict) else {}


# The most seconds one timing rule may give a shot: ten minutes. More is a typo, and made the
# plan's shots longer than a shot may be (a traceback at plan, not a line naming the setting).
MAX_RULE_S = 600.0


class Timing(_Section):
    """How long the plan holds a shot, estimated from the script."""

    words_per_second: float = Field(2.5, gt=0, description="dialogue speaking rate (2.5 is about 150 words a minute)")
    lyrics_words_per_second: float = Field(1.5, gt=0, description="sung lines are slower than speech")
    action_words_per_second: float = Field(3.0, gt=0, description="screen time of action as read")
    parenthetical_pause_s: float = Field(0.5, ge=0, le=MAX_RULE_S, description="a pause for each parenthetical")
    beat_pause_s: float = Field(1.0, ge=0, le=MAX_RULE_S, description="a (beat) or (pause), or 'a beat' in action")
    establishing_s: float = Field(3.0, gt=0, le=MAX_RULE_S, description="least time on an establishing shot")
    insert_s: float = Field(1.5, gt=0, le=MAX_RULE_S, description="time on an insert")
    min_shot_s: float = Field(1.0, gt=0, le=MAX_RULE_S, description="no shot is planned shorter")


class Coverage(_Section):
    """The coverage rules that turn a scene into shots."""

    establishing: str = Field("new-location", pattern="^(new-location|always|never)$")
    master: bool = Field(True, description="a wide master on the scene's opening action")
    dialogue: str = Field("ots", pattern="^(ots|singles)$", description="two-hander coverage")
    two_shot: bool = Field(True, description="open a two-hander on a two-shot")
    inserts: bool = Field(True, description="inserts for props written in caps in action")
    max_inserts_per_scene: int = Field(3, ge=0)
    emotional_close_ups: bool = Field(True, description="a CU when a parenthetical marks a strong feeling")
    action_move: Move = Field(Move.TRACK, description="the move on action with motion (runs, chases)")
    establishing_angle: Angle = Angle.HIGH


def _default_lenses() -> dict[ShotSize, float]:
    return {
        ShotSize.EWS: 18,
        ShotSize.WS: 24,
        ShotSize.MS: 35,
        ShotSize.MCU: 50,
        ShotSize.CU: 85,
        ShotSize.ECU: 100,
        ShotSize.OTS: 50,
        ShotSize.TWO_SHOT: 35,
        ShotSize.POV: 35,
        ShotSize.INSERT: 100,
    }


class Plan(_Section):
    """Everything ``soundstage plan`` reads."""

    timing: Timing = Timing()
    coverage: Coverage = Coverage()
    lenses: dict[ShotSize, LensMm] = Field(default_factory=_default_lenses)  # the shot's own bounds

    @field_validator("lenses", mode="before")
    @classmethod
    def _over_defaults(cls, value: object) -> object:
        """A partial [plan.lenses] table changes only the sizes it names; keys may be in any
        case (environment variables arrive in lower case)."""
        if not isinstance(value, dict):
            return value
        return {**_default_lenses(), **{str(k).upper(): v for k, v in value.items()}}


class BibleEntry(_Section):
    """A character or location of the production bible."""

    description: str = ""
    # Reference images (a character's sheet, a location's paintings), relative to the production.
    references: list[str] = Field(default_factory=list)
    # Who plays a character (the guardrails' casting): the performers lending it their voice,
    # likeness and motion ("" where nobody does), and whether the character is human.
    voice: str = ""
    likeness: str = ""
    motion: str = ""
    human: bool = True
    # The voice model of the voice performer (a TTS voice or clone) that the character's scratch
    # dialogue is made with: the cut counts its lines as a use of that voice (docs/guardrails.md).
    voice_model: str = ""
    # Models made from the likeness and motion performers (a LoRA, a fine-tuned checkpoint: file
    # names or hub ids): a take whose recipe loads one uses those performers.
    models: list[str] = Field(default_factory=list)


class Bible(_Section):
    """The look of the show: what every take is asked to keep to."""

    style: str = Field("", description="the show's look in words, added to every prompt")
    style_references: list[str] = Field(default_factory=list)
    negative: str = "text, watermark, logo, extra limbs"
    characters: dict[str, BibleEntry] = Field(default_factory=dict)
    locations: dict[str, BibleEntry] = Field(default_factory=dict)

    @field_validator("characters", "locations", mode="before")
    @classmethod
    def _upper_keys(cls, value: object) -> object:
        """Names as the script writes them in headings and cues: upper case."""
        return {str(k).upper(): v for k, v in value.items()} if isinstance(value, dict) else value


class Generate(_PluginTables):
    """How takes are made and queued; a backend's own settings are its table ``[generate.<name>]``."""

    backend: str = Field("previs", description="the default backend of soundstage take")
    workers: int = Field(2, ge=1, le=64, description="worker processes make and work start")
    # A running job whose worker sent no heartbeat for this long is claimed again.
    lease_s: float = Field(30.0, gt=0)
    batch: int = Field(4, ge=1, le=64, description="takes of one shot a worker claims at once")
    diffusers: dict[str, Any] = Field(default_factory=dict)  # see generate/diffusers.py
    comfyui: dict[str, Any] = Field(default_factory=dict)  # see generate/comfyui.py
    # -- queue --: a job claimed this many times (its worker died, or the backend failed for a
    # passing reason each time) goes dead and is not claimed again until `soundstage take retry`.
    max_attempts: int = Field(3, ge=1, le=100, description="claims of a job before it goes dead")
    # A transient failure (server unreachable, reset, timed out) puts the job back for this long,
    # doubled on each further attempt.
    retry_backoff_s: float = Field(5.0, ge=0, le=3600, description="first wait before a transient retry")
    # -- motion --: a moving shot's takes are clips, made by this backend unless --backend names
    # another (previs: the storyboard clip; diffusers_video, comfyui_video, or a plugin's).
    video_backend: str = Field("previs", description="the backend of soundstage take on a moving shot")


class Limits(_Section):
    """Where a check's score (0 = as intended, 1 = nothing like it) turns into warn and fail."""

    warn: float = Field(ge=0, le=1)
    fail: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _warn_before_fail(self) -> Limits:
        # A warn above fail would never show: every score past it already fails (a typo that
        # turned a warning into silence, taken without a word).
        if self.warn > self.fail:
            raise ValueError(f"warn {self.warn:g} is above fail {self.fail:g}; warn must be at or below fail")
        return self


class Checks(_PluginTables):
    """The intent checks every new take goes through (checks/); scores run from 0 (as intended)
    to 1 (duplicates: similarity to another shot's take). A score at or above ``warn`` asks for
    a closer look, at or above ``fail`` the take needs an override reason to be approved. The
    defaults are tuned on the evaluation set (benchmarks/intent_checks.py, docs/checks.md):
    warn at about 5% false warnings on clean takes, fail at about 1% false failures."""

    # The checks every take goes through, by name in the soundstage.checks entry-point group:
    # "drift" is the built-in five (composition, character, style, continuity, duplicates); a
    # plugin's check is added by its name, with its settings in [checks.<name>].
    run: list[str] = Field(default_factory=lambda: ["drift"], min_length=1)
    # features: numpy/OpenCV features, no model weights. clip | dino: a local weights folder.
    embedder: str = Field("features", pattern="^(features|clip|dino)$")
    weights: str = Field("", description="local model folder for the clip or dino embedder")
    composition: Limits = Limits(warn=0.32, fail=0.35)
    character: Limits = Limits(warn=0.15, fail=0.25)
    style: Limits = Limits(warn=0.17, fail=0.2)
    continuity: Limits = Limits(warn=0.38, fail=0.45)
    duplicates: Limits = Limits(warn=0.9, fail=0.95)
    # A clip take is checked on every ``clip_every``-th frame and its last (a 5 s clip at 24 fps:
    # 11 frames), each against the previs clip's frame at the same number, and over time
    # (checks/temporal.py). Its limits were tuned on synthetic variants of one shot's previs clip
    # (docs/checks.md).
    clip_every: int = Field(12, ge=1, le=1000, description="check every n-th frame of a clip take")
    flicker: Limits = Limits(warn=0.2, fail=0.3)
    identity: Limits = Limits(warn=0.15, fail=0.25)
    motion: Limits = Limits(warn=0.3, fail=0.4)

    @model_validator(mode="after")
    def _tables_of_checks_run(self) -> Checks:
        for key in self.model_extra or {}:
            if key not in self.run:
                raise ValueError(f"[checks.{key}]: not a check in [checks] run ({', '.join(self.run)})")
        return self


class Credentials(_Section):
    """Content credentials (C2PA) on every take and animatic Soundstage writes out. ``soundstage
    init`` makes a project CA and a signer certificate in credentials/; point these at your own
    PEM files to sign with the studio's certificate instead."""

    certificate: str = Field("credentials/signer.pem", description="signer certificate chain, PEM")
    private_key: str = Field("credentials/signer.key", description="the signer's private key, PEM")
    # An RFC 3161 time-stamp authority; empty: none (these machines reach no TSA).
    timestamp_url: str = ""
    organisation: str = Field(
        "", description="the provider named in content credentials and the disclosure report; empty: the title"
    )

    def certificate_path(self, root: Path) -> Path:
        """The certificate chain's file: relative to the production ``root``, or anywhere."""
        return root / Path(self.certificate).expanduser()

    def key_path(self, root: Path) -> Path:
        """The private key's file: relative to ``root``, or outside the production (an absolute
        or ``~`` path), where a folder people share for USD and media does not carry it."""
        return root / Path(self.private_key).expanduser()


class Cut(_Section):
    """The animatic and editorial exports (soundstage cut)."""

    # Even: H.264 and ProRes take no odd sizes (the encoder's refusal named a temporary file).
    width: int = Field(1280, ge=16, le=8192, multiple_of=2)
    height: int = Field(720, ge=16, le=8192, multiple_of=2)
    head_slate_s: float = Field(3.0, ge=0, le=60, description="the slate before the first shot")
    scratch_dialogue: bool = Field(True, description="speak each line with espeak-ng")
    burn_in: bool = True


class Media(_Section):
    """Where the production's media store lives."""

    url: str = Field("", description="empty: the media/ folder; s3://bucket/prefix: an S3-compatible bucket")
    endpoint: str = Field("", description="the S3 service's address (MinIO, Ceph); empty: AWS for the region")
    region: str = Field("", description="the bucket's region; empty: us-east-1 or AWS_REGION")
    allow_http: bool = Field(False, description="allow an http:// endpoint (a service on a private network)")


class Serve(_Section):
    """The review room's server (soundstage serve)."""

    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses of reverse proxies whose X-Forwarded-For / -Proto are believed; empty: none",
    )
    secure_cookies: bool = Field(
        False, description="mark the review room's cookies Secure (browsers send them over HTTPS only): behind TLS"
    )
    api_schema: bool = Field(
        False,
        description="serve the JSON API's OpenAPI schema at /openapi.json (off: 404, the room's map kept to itself)",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, proxies: list[str]) -> list[str]:
        # Addresses or networks only: uvicorn reads "*" as "trust every peer", and then takes the
        # leftmost X-Forwarded-For entry, the one any client writes itself (a throttle dodged).
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network (a proxy's, e.g. 10.0.0.5)") from None
        return proxies


class TaskResources(_Section):
    """What one Ray task of a backend asks of a node (``[executor.resources.<backend>]``)."""

    num_cpus: float = Field(1.0, ge=0, le=1024)
    num_gpus: float = Field(0.0, ge=0, le=64, description="GPUs (a fraction shares one)")
    memory_gb: float = Field(0.0, ge=0, le=4096, description="memory the task reserves; 0: none reserved")


class ExecutorSettings(_Section):
    """Where ``soundstage work`` runs the take queue's jobs: worker processes on this machine
    (local) or tasks on a Ray cluster (ray, at ``address``)."""

    kind: str = Field("local", pattern="^(local|ray)$")
    address: str = Field("", description="the Ray head: host:6379, ray://host:10001, or auto")
    # Per backend; a backend not named here gets the defaults of generate/executor_ray.py (one
    # GPU for the diffusers backends unless their device is "cpu", one CPU for the others).
    resources: dict[str, TaskResources] = Field(default_factory=dict)


# -- schedules (issue 15) --
class Scheduling(_Section):
    """The shooting schedule's settings ([schedule])."""

    day_hours: Decimal = Field(
        Decimal(10), gt=0, le=24, description="a shoot day's hours: what an hourly rate on the books costs a day"
    )


class Settings(BaseSettings):
    """All settings of one production."""

    model_config = SettingsConfigDict(env_prefix="SOUNDSTAGE_", env_nested_delimiter="__", extra="forbid")

    title: str = ""
    # An exact fraction: 24, 25, "24000/1001" (23.976 and 29.97 are read as the NTSC fractions).
    fps: FrameRate = Fraction(24)
    # Empty: the SQLite file soundstage.db beside soundstage.toml.
    database_url: str = ""
    # Screenplays larger than this are refused (a feature is well under 1 MiB).
    max_script_bytes: int = Field(20 * 1024 * 1024, gt=0)
    plan: Plan = Plan()
    bible: Bible = Bible()
    generate: Generate = Generate()
    checks: Checks = Checks()
    credentials: Credentials = Credentials()
    cut: Cut = Cut()
    media: Media = Media()
    serve: Serve = Serve()
    executor: ExecutorSettings = ExecutorSettings()

    schedule: Scheduling = Scheduling()
    # [books]: validated by soundstage.books.settings.BooksSettings in project/books.py (the base
    # may not import a stage package, so the section is carried here as a plain table).
    books: dict[str, Any] = Field(default_factory=dict)

    # Secrets, from the environment only: SOUNDSTAGE_KEY_PASSPHRASE opens an encrypted signing
    # key, SOUNDSTAGE_DATABASE_PASSWORD is the password of database_url (or use ~/.pgpass).
    key_passphrase: SecretStr = SecretStr("")
    database_password: SecretStr = SecretStr("")

    def signing_passphrase(self) -> bytes | None:
        """The signing key's passphrase, None when none is set."""
        return self.key_passphrase.get_secret_value().encode() or None

    def database_address(self) -> str:
        """``database_url`` with the password from the environment filled in ("" for the
        production's SQLite file). A URL's own password wins (one kept by hand)."""
        password = self.database_password.get_secret_value()
        if not self.database_url or not password:
            return self.database_url
        try:
            url = make_url(self.database_url)
        except ArgumentError:
            return self.database_url  # the engine reports it, without echoing it
        if url.password is not None:
            return self.database_url
        return url.set(password=password).render_as_string(hide_password=False)

    # The production's AI policy: which agreements and laws bind it (soundstage.guardrails).
    policy: Policy = Policy()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file, which is passed in as init values.
        return env_settings, init_settings


def load_settings(root: Path) -> Settings:
    """Read ``root/soundstage.toml`` (and the environment); any mistake is one ConfigError line."""
    path = root / SETTINGS_FILE
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found; is {root} a production? (soundstage init {root})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from None
    for key, variable in SECRETS.items():
        if key in data:
            raise ConfigError(f"{path}: {key}: secrets are not kept in the settings file; set {variable} instead")
    try:
        return Settings(**data)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        variable = "SOUNDSTAGE_" + "__".join(str(p) for p in first["loc"]).upper()
        # A table's own check (warn above fail) is located at the table, while the value may
        # have come from a variable of one of its keys (SOUNDSTAGE_CHECKS__STYLE__WARN).
        named = sorted(
            name for name in os.environ if name.upper() == variable or name.upper().startswith(variable + "__")
        )
        where = f"environment {', '.join(named)}" if named else str(path)
        # Pydantic prefixes a validator's own message with "Value error, "; the user needs only the message.
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{where}: {key}: {message}") from None


def default_toml(title: str = "", database_url: str = "", fps: Fraction | int | str = 24) -> str:
    """The commented soundstage.toml that ``soundstage init`` writes (``fps``: any form
    ``frame_rate`` reads; ValueError when it is not a rate)."""
    defaults = Settings.model_construct(fps=frame_rate(fps))
    timing, coverage = defaults.plan.timing, defaults.plan.coverage
    checks, credentials, cut = Checks(), Credentials(), Cut()
    limits = "\n".join(
        f"{name} = {{ warn = {limit.warn:g}, fail = {limit.fail:g} }}"
        for name in ("composition", "character", "style", "continuity", "duplicates")
        if isinstance(limit := getattr(checks, name), Limits)
    )
    lenses = "\n".join(f'"{size.value}" = {mm:g}' for size, mm in _default_lenses().items())
    return f"""# Soundstage production settings. Environment variables SOUNDSTAGE_<KEY> override them
# (nested keys with "__": SOUNDSTAGE_PLAN__TIMING__WORDS_PER_SECOND=2.2).

title = {_toml_str(title)}
# Frames a second: 24, 25, 30, or an NTSC rate as a fraction, "24000/1001" (23.976), "30000/1001".
fps = {_toml_rate(defaults.fps)}
# Empty: SQLite in soundstage.db beside this file. Teams: postgresql://user@host/db; the
# password is never written here: set SOUNDSTAGE_DATABASE_PASSWORD or use ~/.pgpass.
database_url = {_toml_str(split_password(database_url)[0])}
# Screenplays larger than this many bytes are refused.
max_script_bytes = {defaults.max_script_bytes}

[plan.timing]
# Dialogue speaking rate; 2.5 words a second is about 150 words a minute.
words_per_second = {timing.words_per_second}
lyrics_words_per_second = {timing.lyrics_words_per_second}
action_words_per_second = {timing.action_words_per_second}
parenthetical_pause_s = {timing.parenthetical_pause_s}
beat_pause_s = {timing.beat_pause_s}
establishing_s = {timing.establishing_s}
insert_s = {timing.insert_s}
min_shot_s = {timing.min_shot_s}

[plan.coverage]
# new-location | always | never
establishing = "{coverage.establishing}"
master = {str(coverage.master).lower()}
# ots | singles: how a two-character exchange is covered
dialogue = "{coverage.dialogue}"
two_shot = {str(coverage.two_shot).lower()}
inserts = {str(coverage.inserts).lower()}
max_inserts_per_scene = {coverage.max_inserts_per_scene}
emotional_close_ups = {str(coverage.emotional_close_ups).lower()}
action_move = "{coverage.action_move.value}"
establishing_angle = "{coverage.establishing_angle.value}"

[plan.lenses]
# Focal length in mm (35 mm full-frame equivalent) for each shot size.
{lenses}

[generate]
# previs | diffusers | comfyui
backend = "previs"
# A moving shot's takes are clips: previs | diffusers_video | comfyui_video
video_backend = "previs"
workers = 2

# Intent checks on every new take (soundstage check). Scores run from 0 (as intended) to 1;
# a score at or over warn is a warning, at or over fail a failure (approving then needs a reason).
[checks]
# The checks to run, by name: "drift" is the built-in five; a plugin's check adds its name here
# and its settings as a table [checks.<name>].
run = ["drift"]
# features (no model weights) | clip | dino (then weights = "a local model folder")
embedder = "{checks.embedder}"
{limits}

# Content credentials (C2PA) on every take and animatic written out. soundstage init made a
# project CA and signer in credentials/; point these at the studio's own PEM files instead.
# The key may live outside the production (private_key = "~/.soundstage/pilot.key") and be
# encrypted: its passphrase comes from the environment, SOUNDSTAGE_KEY_PASSPHRASE.
[credentials]
certificate = "{credentials.certificate}"
private_key = "{credentials.private_key}"
# The provider the credentials and the disclosure report name; empty: the production's title.
# organisation = "Lantern Studio"

# The animatic and editorial exports of soundstage cut.
[cut]
width = {cut.width}
height = {cut.height}
head_slate_s = {cut.head_slate_s}
scratch_dialogue = {str(cut.scratch_dialogue).lower()}
burn_in = {str(cut.burn_in).lower()}

[serve]
# Reverse proxies (their addresses) whose X-Forwarded-For is believed; empty: the client's own
# address counts, whatever a request's headers say (so a forged header cannot dodge the
# login throttle).
trusted_proxies = []

[media]
# Empty: the media/ folder beside this file. A team: an S3-compatible bucket, e.g.
# url = "s3://studio-media/pilot", endpoint = "http://minio.lan:9000", allow_http = true
# (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; media/ becomes its local cache).
url = ""
endpoint = ""
region = ""
allow_http = false

# The production bible: the show's look, and each character and location. Reference images
# live in bible/ (paths relative to this file). Check it with: soundstage bible check
[bible]
style = ""
style_references = []
negative = "text, watermark, logo, extra limbs"

# [bible.characters.MAISIE]
# description = "an eleven-year-old lamplighter's granddaughter, soot on her nose, red scarf"
# references = ["bible/characters/maisie_sheet.png"]

# [bible.locations."HARBOUR PIER"]
# description = "a long wooden pier, iron lamp at the end, grey-green sea"
# references = ["bible/locations/pier.png"]
# A character's performers (soundstage performer add NAME): voice = "...", likeness = "...",
# motion = "..."; human = false for a robot or an animal (no union notice for a synthetic one).
# voice_model = "..." (the voice performer's voice model its scratch dialogue is made with) and
# models = ["..."] (LoRAs or checkpoints made from its performers) are uses of those performers.

# The production's AI policy (docs/guardrails.md): the rule packs that bind it, checked before a
# take is approved, before the cut and before an export. Empty lists: no pack, nothing checked.
[policy]
# The project name consents are written for; empty: the production's title.
project = ""
# e.g. ["sag-aftra-tv-animation@2024", "wga-mba@2023", "tag@2024", "dga@2023"]
agreements = []
# e.g. ["us-california@2026", "eu@2026", "ai-marking@2026"]
laws = []
genai_departments = []
default_department = ""
# who must be consulted, by role, e.g. {{ director = "Rae Okafor" }}
consult = {{}}
# real people's names watched for in prompts
names = []
territories = []
pack_dirs = []
"""


def split_password(database_url: str) -> tuple[str, str]:
    """``database_url`` without its password, and the password ("" when it has none): what
    ``soundstage init`` writes, and what it keeps out of the file."""
    try:
        url = make_url(database_url) if database_url else None
    except ArgumentError:
        return database_url, ""
    if url is None or url.password is None:
        return database_url, ""
    # URL.set(password=None) would keep the password (None there means "unchanged").
    kept = URL.create(url.drivername, url.username, None, url.host, url.port, url.database, url.query)
    return kept.render_as_string(hide_password=False), str(url.password)


def _toml_rate(rate: Fraction) -> str:
    return str(rate) if rate.denominator == 1 else _toml_str(rate_text(rate))


def _toml_str(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
