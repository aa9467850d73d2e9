"""Scratch dialogue with the real espeak-ng: stable, distinct voices, the cache, the mix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from soundstage.cut import dialogue
from soundstage.cut.dialogue import (
    FULL_SCALE,
    DialogueMix,
    ScratchVoices,
    Speech,
    mix_true_peak,
    read_wav,
    speak,
    true_peak,
    voice_for,
)
from soundstage.errors import CutError

CAST = ("MAISIE", "FUSE", "OSWIN", "JUNO")  # the example episode's speaking cast
LINE = "The lamps along the pier are out again."


def _pitch(speech: Speech) -> float:
    """The median fundamental frequency (Hz) of the voiced parts, by autocorrelation over
    40 ms windows (a voice's pitch is what tells two espeak-ng voices apart by ear)."""
    samples = speech.samples.astype(np.float64)
    window = int(0.04 * speech.rate)
    low, high = int(speech.rate / 400), int(speech.rate / 60)  # 60..400 Hz
    found = []
    for start in range(0, len(samples) - window, window):
        chunk = samples[start : start + window]
        if np.sqrt(np.mean(chunk**2)) < 1000:
            continue  # silence or a consonant
        chunk = chunk - chunk.mean()
        correlation = np.correlate(chunk, chunk, "full")[window - 1 :]
        lag = low + int(np.argmax(correlation[low:high]))
        if correlation[lag] > 0.5 * correlation[0]:
            found.append(speech.rate / lag)
    return float(np.median(found))


def test_each_character_gets_a_voice_of_their_own() -> None:
    voices = [voice_for(name) for name in CAST]
    assert len(set(voices)) == len(CAST)
    # The name decides, not its spelling on the page.
    assert voice_for(" maisie ") == voice_for("MAISIE")


def test_a_voice_is_the_same_in_every_process() -> None:
    # Another interpreter has another hash seed: the voice must not depend on it.
    code = "from soundstage.cut.dialogue import voice_for; print(voice_for('MAISIE'))"
    runs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": seed}
        ).stdout
        for seed in ("1", "2")
    }
    assert runs == {f"{voice_for('MAISIE')}\n"}


def test_two_characters_sound_different_and_one_sounds_the_same_twice() -> None:
    low, high = sorted(CAST, key=lambda name: voice_for(name).pitch)[:: len(CAST) - 1]
    assert voice_for(high).pitch - voice_for(low).pitch >= 10
    first, again, other = speak(LINE, voice_for(low)), speak(LINE, voice_for(low)), speak(LINE, voice_for(high))
    assert first.rate == 22050 and first.samples.dtype == np.int16
    assert 1.0 < first.seconds < 5.0
    assert np.array_equal(first.samples, again.samples)
    # Different voices differ in what a listener hears: the pitch of the voice.
    assert abs(_pitch(first) - _pitch(other)) > 8


def test_a_line_starting_with_a_dash_is_spoken_not_read_as_an_option() -> None:
    speech = speak("-- I never said that.", voice_for("JUNO"))
    assert speech.seconds > 0.5


def test_lines_are_cached_by_voice_and_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    voices = ScratchVoices(tmp_path)
    spoken = voices.line("MAISIE", LINE)
    assert spoken.path.parent == tmp_path
    assert read_wav(spoken.path).samples.size == spoken.samples
    assert spoken.frames(24) == -(-spoken.samples * 24 // spoken.rate)
    assert voices.line("FUSE", LINE).path != spoken.path
    # A re-cut finds the line in the cache and does not need espeak-ng at all.
    monkeypatch.setattr(dialogue, "ESPEAK", str(tmp_path / "no-such-espeak"))
    assert voices.line("MAISIE", LINE) == spoken
    with pytest.raises(CutError, match="install the Debian package espeak-ng"):
        voices.line("MAISIE", "A line never spoken before.")


def test_the_mix_read_in_chunks_is_the_whole_mix(tmp_path: Path) -> None:
    rate = 8000
    ones = Speech(np.full(3000, 1000, np.int16), rate)
    twos = Speech(np.full(2000, 2000, np.int16), rate)
    (tmp_path / "a.wav").write_bytes(ones.wav())
    (tmp_path / "b.wav").write_bytes(twos.wav())
    clips = [(4000, tmp_path / "b.wav"), (1500, tmp_path / "a.wav")]  # out of order, overlapping

    whole = DialogueMix(clips, rate).read(0, 8000) * FULL_SCALE  # in 16-bit steps
    mix = DialogueMix(clips, rate)
    chunks = np.concatenate([mix.read(start, 700) for start in range(0, 8400, 700)])[:8000] * FULL_SCALE
    assert np.array_equal(chunks, whole)
    assert whole[1499] == 0 and whole[1500] == 1000 and whole[3999] == 1000
    assert whole[4000] == whole[4499] == 1000 + 2000
    assert whole[4500] == whole[5999] == 2000 and whole[6000] == 0
    assert mix._playing == []  # nothing left in memory once the mix has passed every line
    halved = DialogueMix(clips, rate, gain=0.5).read(0, 8000) * FULL_SCALE
    assert np.array_equal(halved, whole / 2)


def test_overlapping_lines_sum_past_full_scale_and_the_true_peak_says_so(tmp_path: Path) -> None:
    # Two loud lines that overlap: the mix is not clipped (clipping is what made the animatic's
    # sound peak over 0 dBFS); its true peak is the sum's, and a gain brings it under.
    rate = 48000
    tone = (0.8 * 32767 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype(np.int16)
    (tmp_path / "tone.wav").write_bytes(Speech(tone, rate).wav())
    clips = [(0, tmp_path / "tone.wav"), (rate // 2, tmp_path / "tone.wav")]
    whole = DialogueMix(clips, rate).read(0, 2 * rate)
    assert np.abs(whole).max() > 1.2
    peak = mix_true_peak(clips, rate, 2 * rate)
    assert peak == pytest.approx(true_peak(whole), rel=1e-4)  # chunked, with context at the joins
    assert peak >= np.abs(whole).max()


def test_the_true_peak_is_between_the_samples() -> None:
    # A sine at a quarter of the sample rate, sampled 45 degrees off its crest: every sample is
    # at 0.707 of the crest, the wave itself reaches 1.0 between them (BS.1770-4's example of
    # what a sample-peak meter misses).
    wave = np.sin(np.pi / 2 * np.arange(4800) + np.pi / 4)
    wave *= np.minimum(1, np.minimum(np.arange(4800), np.arange(4800)[::-1]) / 400)  # faded in and out
    assert np.abs(wave).max() == pytest.approx(0.7071, abs=1e-4)
    assert true_peak(wave) == pytest.approx(1.0, abs=0.005)


def test_lines_are_resampled_to_the_mix_rate(tmp_path: Path) -> None:
    speech = speak(LINE, voice_for("OSWIN"))
    (tmp_path / "line.wav").write_bytes(speech.wav())
    mixed = DialogueMix([(0, tmp_path / "line.wav")], 48000).read(0, 48000 * 6) * FULL_SCALE
    heard = np.flatnonzero(np.abs(mixed) > 200)
    spoken = np.flatnonzero(np.abs(speech.samples) > 200)
    # The same stretch of speech, in seconds, at either rate (to a few samples).
    assert abs((heard[-1] - heard[0]) / 48000 - (spoken[-1] - spoken[0]) / speech.rate) < 0.005
    assert abs(heard[0] / 48000 - spoken[0] / speech.rate) < 0.005
    assert np.abs(mixed).max() > 3000
