"""Joining encoded segments into one movie without encoding again: PyAV copies their packets
into one container, each segment's timestamps moved to where it starts in the movie.

That is sound only when the segments agree: every video segment starts on an IDR frame (an
encode starts on one, and the animatic has no B-frames, so no frame refers across a join),
and all were made by one encoder with one set of parameters, so the stream's one SPS/PPS
(the ``avcC`` extradata an MP4 keeps in its header) is every segment's. The joiner checks the
parameters of each segment against the first and refuses one that differs (``Mismatch``), so
the caller can encode it again.

AAC sound is the delicate part: an AAC encode begins with a priming packet (1,024 samples the
decoder drops) and each packet's transform overlaps its neighbours, so a join decodes exactly
only where the sound is silent for a frame or two either side (measured: no difference at all
from one encode of the whole mix at joins in silence, clicks of up to 0.6 of full scale at
joins inside a line). The animatic therefore joins sound only in silence (see
``animatic._audio_segments``); here the priming packet of every segment but the first is left
out, so the samples run on without a gap.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av


class Mismatch(Exception):
    """A segment that cannot be copied into the movie as it is (other encoder parameters or
    timing), found before any of its packets is copied; the caller encodes it again."""


class Joiner:
    """One output movie, filled segment by segment in time order.

    Video and sound segments are added separately, each at its own place; adding them
    alternately, a shot's picture and then the sound up to its end, lets the muxer
    interleave with no more than a shot's packets held.
    """

    def __init__(
        self,
        path: Path,
        container_format: str,
        *,
        fps: Fraction,
        video: Path,
        audio: Path | None,
        timecode: str,
        metadata: dict[str, str],
        options: dict[str, str],
    ) -> None:
        """``video`` and ``audio``: the first segment of each, whose streams the movie's are
        made from. ``timecode``: the first frame's, written as the movie's timecode track."""
        self.fps = fps
        self.container = av.open(str(path), "w", format=container_format)
        try:
            self.container.metadata.update(metadata)
            self.container.options.update(options)
            self.video, self._video_params = self._stream_like(video, "video")
            self.video.metadata["timecode"] = timecode  # the mov/mp4 muxer writes it as a tmcd track
            self.audio, self._audio_params = self._stream_like(audio, "audio") if audio else (None, None)
        except BaseException:
            self.container.close()
            raise
        self.frames = 0  # video frames copied
        self.samples = 0  # sound samples copied
        self._audio_segments = 0

    def _stream_like(self, segment: Path, kind: str) -> tuple[av.stream.Stream, tuple]:
        with _open(segment) as source:
            template = source.streams.get(**{kind: 0})[0]
            stream = self.container.add_stream_from_template(template)
            # PyAV resets the tag for a remux; the muxer would then pick its own, and for
            # ProRes that names another profile (HQ for 422).
            stream.codec_context.codec_tag = template.codec_context.codec_tag
            # The segments' own time base, so a packet's timestamps are moved by an integer
            # and never rescaled.
            stream.time_base = template.time_base
            return stream, _parameters(template)

    def add_video(self, segment: Path) -> int:
        """Copy a video segment in after the frames already there; returns its frame count."""
        with _open(segment) as source:
            stream = source.streams.video[0]
            if _parameters(stream) != self._video_params or stream.time_base != self.video.time_base:
                raise Mismatch(f"{segment}: other encoder parameters than the movie's first segment")
            shift = _ticks(Fraction(self.frames, self.fps), stream.time_base, segment)
            count = 0
            packets = []
            for packet in source.demux(stream):
                if packet.size == 0:
                    continue  # the demuxer's end-of-stream marker
                packet.pts += shift
                packet.dts += shift
                packet.stream = self.video
                packets.append(packet)
                count += 1
                if len(packets) == 256:  # a list per mux call: fewer crossings into Python
                    self.container.mux(packets)
                    packets = []
            self.container.mux(packets)
        self.frames += count
        return count

    def add_audio(self, segment: Path) -> int:
        """Copy a sound segment in after the samples already there; returns its sample count
        (what its packets play, the priming left out)."""
        assert self.audio is not None
        first = self._audio_segments == 0
        with _open(segment) as source:
            stream = source.streams.audio[0]
            if _parameters(stream) != self._audio_params or stream.time_base != self.audio.time_base:
                raise Mismatch(f"{segment}: other encoder parameters than the movie's first segment")
            shift = _ticks(Fraction(self.samples, stream.sample_rate), stream.time_base, segment)
            played = 0
            packets = []
            for packet in source.demux(stream):
                if packet.size == 0:
                    continue
                if packet.pts < 0 and not first:
                    continue  # the priming: the movie's decoder is already primed
                if packet.pts >= 0:
                    played += packet.duration
                packet.pts += shift
                packet.dts += shift
                packet.stream = self.audio
                packets.append(packet)
                if len(packets) == 256:
                    self.container.mux(packets)
                    packets = []
            self.container.mux(packets)
            # Read while the segment is open: PyAV 18 refuses a closed container's stream.
            samples = round(played * stream.time_base * stream.sample_rate)
        self.samples += samples
        self._audio_segments += 1
        return samples

    def close(self) -> None:
        """Write the index (and, for an MP4 with faststart, move it to the front)."""
        self.container.close()


def _open(segment: Path) -> av.container.InputContainer:
    """A segment opened for its packets. FFmpeg's probe decodes a stream's first frame to learn
    what the container already says or the packets do not need (the pixel format): most of the
    cost of opening a picture segment (4 ms of 5 for a 1280x720 shot), and a re-cut of a feature
    opens 1,500 of them. The probe's decoder is told to skip every frame; the one line it logs
    about the format it could not learn is kept out of the log."""
    with av.logging.Capture():
        return av.open(str(segment), options=_PROBE)


_PROBE = {"skip_frame": "all"}


def _parameters(stream: av.stream.Stream) -> tuple:
    """What every segment of one stream must share: the codec, its extradata (H.264's SPS and
    PPS, which hold the chroma format and bit depth; AAC's AudioSpecificConfig) and the frame
    size or the sample format. (The pixel format is not known: ``_open`` skips the decoding
    that would tell it.)"""
    context = stream.codec_context
    common = (context.name, bytes(context.extradata or b""))
    if stream.type == "video":
        return (*common, context.width, context.height, context.pix_fmt)
    return (*common, stream.sample_rate, context.format.name, context.layout.name)


def _ticks(time: Fraction, time_base: Fraction, segment: Path) -> int:
    """``time`` in ``time_base`` units, which it must be a whole number of."""
    ticks = time / time_base
    if ticks.denominator != 1:
        raise Mismatch(f"{segment}: its time base {time_base} cannot place it at {float(time):.3f} s")
    return int(ticks)
