"""Scratch dialogue: every line of the cut spoken by espeak-ng, one stable voice per character,
and the mix of those lines into the animatic's sound, a chunk at a time.

espeak-ng runs as a subprocess: it has no maintained Python binding (the old ``espeak`` and
``py-espeak-ng`` wrappers are unmaintained and shell out anyway), and a process per line keeps
a crash in the synthesiser from taking the cut down with it. Each character's voice (accent,
variant, pitch, speed) is derived from a hash of the name, so MAISIE sounds the same in every
cut, on every machine. Spoken lines are cached as WAV files named by a hash of (voice, text),
so a re-cut speaks only the lines that changed.

The mix is measured before it is played out: its true peak (ITU-R BS.1770-4 Annex 2: the
largest sample after 4x oversampling, which catches the peaks between samples that a
converter or a lossy codec brings out) sets one gain for the whole mix, so the animatic's
sound sits at the level the delivery asks for and never clips.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import subprocess
import wave
from bisect import bisect_left
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np

from soundstage.errors import CutError
from soundstage.files import write_atomic

ESPEAK = "espeak-ng"
# Accents and voice variants a character's voice is picked from (espeak-ng-data/voices/!v).
# The robotic and whispering variants are left out: scratch dialogue should sound like a read.
ACCENTS = ("en-us", "en")
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
PITCHES = range(30, 71)  # espeak-ng's -p runs 0..99, 50 by default
SPEEDS = range(155, 191)  # words per minute; espeak-ng's default is 175
# Bump when the way a line is spoken changes, so cached lines are spoken again.
CACHE_VERSION = 1
FULL_SCALE = 32768.0  # 16-bit PCM's full scale: the mix is in these units over one
OVERSAMPLING = 4  # BS.1770-4's true-peak meter at 48 kHz
_PEAK_CHUNK = 1 << 16  # samples measured at a time
_PEAK_CONTEXT = 64  # samples either side that the oversampling filter needs (it spans about 10)


@dataclass(frozen=True, slots=True)
class Voice:
    """How espeak-ng speaks one character."""

    accent: str
    variant: str
    pitch: int
    speed: int

    def arguments(self) -> list[str]:
        """espeak-ng's command-line options for this voice."""
        return ["-v", f"{self.accent}+{self.variant}", "-p", str(self.pitch), "-s", str(self.speed)]


def voice_for(character: str) -> Voice:
    """The character's voice, derived from the name alone (case and spacing ignored), so it
    is the same in every run; Python's ``hash`` is salted per process and would not be."""
    digest = hashlib.sha256(" ".join(character.upper().split()).encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    number, accent = divmod(number, len(ACCENTS))
    number, variant = divmod(number, len(VARIANTS))
    number, pitch = divmod(number, len(PITCHES))
    speed = number % len(SPEEDS)
    return Voice(ACCENTS[accent], VARIANTS[variant], PITCHES[pitch], SPEEDS[speed])


@dataclass(frozen=True, slots=True, eq=False)
class Speech:
    """A spoken line: mono 16-bit PCM and its sample rate."""

    samples: np.ndarray  # int16, one channel
    rate: int

    @property
    def seconds(self) -> float:
        """How long the line runs."""
        return len(self.samples) / self.rate

    def frames(self, fps: float) -> int:
        """How many whole frames the line covers at ``fps`` (a part frame counts as one)."""
        return _frames(len(self.samples), self.rate, fps)

    def wav(self) -> bytes:
        """The line as a WAV file."""
        out = io.BytesIO()
        with wave.open(out, "wb") as file:
            file.setnchannels(1)
            file.setsampwidth(2)
            file.setframerate(self.rate)
            file.writeframes(self.samples.astype("<i2").tobytes())
        return out.getvalue()


def speak(text: str, voice: Voice) -> Speech:
    """``text`` spoken in ``voice`` by espeak-ng; CutError when espeak-ng is missing or fails."""
    try:
        # --stdin reads the whole text at once (without it espeak-ng speaks line by line), and
        # text on stdin cannot be mistaken for an option, as "-- I never" would be.
        result = subprocess.run(
            [ESPEAK, *voice.arguments(), "-b", "1", "--stdin", "--stdout"],
            input=text.encode(),
            capture_output=True,
            check=False,
            timeout=120,
        )
    except FileNotFoundError:
        raise CutError(
            f"{ESPEAK} not found: install the Debian package espeak-ng, or set [cut] scratch_dialogue = false"
        ) from None
    except subprocess.TimeoutExpired:
        raise CutError(f"{ESPEAK} took over 2 minutes on the line {text[:40]!r}") from None
    if result.returncode != 0:
        raise CutError(f"{ESPEAK} failed on the line {text[:40]!r}: {result.stderr.decode(errors='replace')}")
    return _parse_wav(result.stdout, f"{ESPEAK} output")


def read_wav(path: Path) -> Speech:
    """A mono 16-bit WAV file (as ``Speech.wav`` or espeak-ng writes them)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CutError(f"{path}: cannot read the spoken line: {error.strerror or error}") from None
    return _parse_wav(data, str(path))


def _parse_wav(data: bytes, where: str) -> Speech:
    try:
        with wave.open(io.BytesIO(data), "rb") as file:
            if file.getnchannels() != 1 or file.getsampwidth() != 2:
                raise CutError(f"{where}: expected mono 16-bit PCM")
            # espeak-ng streams to stdout with a placeholder length in the header; reading
            # "that many" frames stops at the end of the data, which is what is there.
            samples = np.frombuffer(file.readframes(file.getnframes()), dtype="<i2").astype(np.int16)
            return Speech(samples, file.getframerate())
    except (wave.Error, EOFError) as error:
        raise CutError(f"{where}: not a WAV file: {error}") from None


@dataclass(frozen=True, slots=True)
class SpokenLine:
    """A line in the voice cache: its WAV file and how long it runs."""

    path: Path
    samples: int
    rate: int

    def frames(self, fps: float) -> int:
        """How many whole frames the line covers at ``fps`` (a part frame counts as one)."""
        return _frames(self.samples, self.rate, fps)


def _frames(samples: int, rate: int, fps: float) -> int:
    return math.ceil(samples * fps / rate)


class ScratchVoices:
    """Spoken lines cached as WAV files in one folder, named by a hash of voice and text.

    Safe to use from several threads: each line is written atomically under its own name.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def line(self, character: str, text: str) -> SpokenLine:
        """``text`` in ``character``'s voice, spoken now or found in the cache."""
        voice = voice_for(character)
        key = json.dumps([CACHE_VERSION, asdict(voice), text], ensure_ascii=False)
        path = self.folder / f"{hashlib.sha256(key.encode()).hexdigest()}.wav"
        if path.is_file():
            try:
                with wave.open(str(path), "rb") as file:
                    return SpokenLine(path, file.getnframes(), file.getframerate())
            except (wave.Error, EOFError):
                pass  # a damaged cache entry: speak the line again and replace it
        speech = speak(text, voice)
        write_atomic(path, speech.wav(), what="spoken line", error=CutError)
        return SpokenLine(path, len(speech.samples), speech.rate)


class DialogueMix:
    """The sum of spoken lines placed on a timeline, read a chunk at a time, times ``gain``.

    Only the lines that overlap the chunk being read are in memory (loaded when the mix first
    reaches them, dropped once it has passed them), so memory does not grow with the length of
    the cut. Chunks must be read in order.
    """

    def __init__(self, clips: list[tuple[int, Path]], rate: int, gain: float = 1.0) -> None:
        """``clips``: (start sample at ``rate``, WAV file) for each line."""
        self.rate = rate
        self.gain = gain
        self._clips = sorted(clips, key=lambda clip: clip[0])
        self._starts = [start for start, _ in self._clips]
        self._next = 0  # the first clip not loaded yet
        self._playing: list[tuple[int, np.ndarray]] = []

    def read(self, start: int, count: int) -> np.ndarray:
        """``count`` samples (float32, mono, full scale 1.0) of the mix from sample ``start`` on.

        Nothing is clipped: lines that overlap may sum past full scale, which is what
        ``mix_true_peak`` measures and the gain is there to bring down."""
        stop = start + count
        end = bisect_left(self._starts, stop, lo=self._next)
        for clip_start, path in self._clips[self._next : end]:
            self._playing.append((clip_start, _load(path, self.rate)))
        self._next = end
        mix = np.zeros(count, dtype=np.float32)
        for clip_start, samples in self._playing:
            lo, hi = max(start, clip_start), min(stop, clip_start + len(samples))
            if lo < hi:
                mix[lo - start : hi - start] += samples[lo - clip_start : hi - clip_start]
        self._playing = [(s, samples) for s, samples in self._playing if s + len(samples) > stop]
        return mix * np.float32(self.gain / FULL_SCALE)


def true_peak(samples: np.ndarray) -> float:
    """The true peak of ``samples`` (full scale 1.0): the largest magnitude after 4x
    oversampling with a polyphase low-pass filter (scipy's ``resample_poly``), as BS.1770-4
    measures it. Samples past either end are taken as silence."""
    # Imported here: scipy.signal costs about 100 MB and a second, which commands that only
    # import the cut (import, breakdown, plan) should not pay.
    from scipy.signal import resample_poly

    if len(samples) == 0:
        return 0.0
    return float(np.abs(resample_poly(samples.astype(np.float64), OVERSAMPLING, 1)).max())


def mix_true_peak(clips: list[tuple[int, Path]], rate: int, length: int) -> float:
    """The true peak (full scale 1.0) of the mix of ``clips`` over its first ``length`` samples.

    Measured a chunk at a time, each with the samples just before and after it, so the
    oversampling filter sees across the joins and the result is the peak of the whole. Silent
    stretches (the slate, shots without lines) are passed over: oversampling is most of the
    cost (about half a second per minute of sound on one core of the development machine)."""
    from scipy.signal import resample_poly  # see true_peak

    mix = DialogueMix(clips, rate)
    before = np.zeros(_PEAK_CONTEXT, np.float32)
    chunk = mix.read(0, min(_PEAK_CHUNK, length))
    peak, position = 0.0, len(chunk)
    while len(chunk):
        after = mix.read(position, min(_PEAK_CHUNK, max(0, length - position)))
        joined = np.concatenate([before, chunk, after[:_PEAK_CONTEXT]])
        if joined.any():
            inner = resample_poly(joined.astype(np.float64), OVERSAMPLING, 1)
            inner = inner[OVERSAMPLING * len(before) : OVERSAMPLING * (len(before) + len(chunk))]
            peak = max(peak, float(np.abs(inner).max()))
        before = np.concatenate([before, chunk])[-_PEAK_CONTEXT:]
        chunk, position = after, position + len(after)
    return peak


def _load(path: Path, rate: int) -> np.ndarray:
    """A WAV file's samples at ``rate`` (resampled by FFmpeg's resampler where it differs)."""
    speech = read_wav(path)
    if speech.rate == rate or len(speech.samples) == 0:
        return speech.samples
    frame = av.AudioFrame.from_ndarray(speech.samples[np.newaxis, :], format="s16", layout="mono")
    frame.sample_rate = speech.rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    parts = [out.to_ndarray()[0] for out in [*resampler.resample(frame), *resampler.resample(None)]]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
