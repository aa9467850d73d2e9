"""FCPXML, the interchange format of Final Cut Pro (10.4.1 and later) that DaVinci Resolve also
imports, written from the cut's OTIO timeline.

Written here with lxml rather than with OTIO's ``otio-fcpx-xml-adapter`` (1.0.0, the current
release): that adapter fails on a clip name with both an apostrophe and a double quote (it
looks names up with an XPath predicate it builds from the name, and a line of dialogue such as
``It's "out"`` breaks the predicate), puts clips at the document's top level where FCPXML has
no place for them, and drops the sequence's start timecode. Its reader is what the tests read
this file back with.

The shape is what Final Cut Pro itself exports for stills and connected sound (FCPXML 1.8):
one ``<clip>`` per shot on the primary storyline (the spine) holding the take's still (or its
clip, from the clip's first frame; a clip shorter than the shot is followed by a ``<clip>`` of
its last frame held by a ``<timeMap>``) as a ``<video>``, its scratch-dialogue lines as connected ``<asset-clip>``s in the lane below, its
description as the clip's ``<note>`` and the review notes as to-do markers; a shot without a
picture is a ``<gap>``. The sequence starts at the cut's program start, so its timecode is the
EDL's and the animatic's.
"""

from __future__ import annotations

from fractions import Fraction

import opentimelineio as otio
from lxml import etree

VERSION = "1.8"
AUDIO_RATE = "48k"  # the sequence's: the animatic's sound is mixed at 48 kHz


def fcpxml_text(timeline: otio.schema.Timeline, size: tuple[int, int]) -> str:
    """The FCPXML document of ``timeline`` (as ``timeline.to_otio`` makes it: a video track of
    shots, an audio track of spoken lines, markers on the shots) for pictures of ``size``.
    Media references are written as the timeline holds them (relative URLs in a cut folder)."""
    video = timeline.video_tracks()[0]
    rate = video.duration().rate
    frame = _frame_duration(rate)
    start = timeline.global_start_time or otio.opentime.RationalTime(0, rate)
    root = etree.Element("fcpxml", version=VERSION)
    resources = etree.SubElement(root, "resources")
    etree.SubElement(
        resources, "format", id="r1", frameDuration=_seconds(1, frame), width=str(size[0]), height=str(size[1])
    )
    assets = _Assets(resources, frame)
    event = etree.SubElement(etree.SubElement(root, "library"), "event", name=timeline.name)
    project = etree.SubElement(event, "project", name=timeline.name)
    sequence = etree.SubElement(
        project,
        "sequence",
        format="r1",
        duration=_seconds(_frames(video.duration(), rate), frame),
        tcStart=_seconds(_frames(start, rate), frame),
        tcFormat="NDF",
        audioLayout="mono",
        audioRate=AUDIO_RATE,
    )
    spine = etree.SubElement(sequence, "spine")
    lines = _lines(timeline, rate)
    for index, item in enumerate(video):
        placed = video.range_of_child_at_index(index)
        first = _frames(placed.start_time, rate)
        length = _frames(placed.duration, rate)
        if not isinstance(item, otio.schema.Clip):
            etree.SubElement(spine, "gap", name="Gap", offset=_seconds(_frames(start, rate) + first, frame),
                             duration=_seconds(length, frame), start="0s")  # fmt: skip
            continue
        _shot(spine, item, first, length, _frames(start, rate), frame, assets, lines)
    document = etree.tostring(
        root, encoding="UTF-8", xml_declaration=True, pretty_print=True, doctype="<!DOCTYPE fcpxml>"
    )
    return document.decode("utf-8")


def _shot(
    spine: etree._Element,
    clip: otio.schema.Clip,
    first: int,
    length: int,
    program: int,
    frame: Fraction,
    assets: _Assets,
    lines: list[tuple[int, int, otio.schema.Clip]],
) -> None:
    """One shot on the spine: its still (or a gap), its lines below it, its note and markers."""
    rate = clip.duration().rate
    timing = {"offset": _seconds(program + first, frame), "duration": _seconds(length, frame), "start": "0s"}
    reference = clip.media_reference
    still = isinstance(reference, otio.schema.ExternalReference)
    element = etree.SubElement(spine, "clip" if still else "gap", name=clip.name, **timing)
    description = (clip.metadata.get("soundstage") or {}).get("description")
    if description:
        etree.SubElement(element, "note").text = description
    if still:
        # The take: a still lasts as long as it is used; a clip take (its available range) is
        # played from its source in, and a hold (FreezeFrame) stays on that frame by a time map.
        available = reference.available_range
        held = any(isinstance(effect, otio.schema.FreezeFrame) for effect in clip.effects)
        source = _frames(clip.source_range.start_time, rate)
        if available is not None and clip.metadata.get("soundstage", {}).get("clip_frames"):
            asset = assets.clip(reference.target_url, clip.name, _frames(available.duration, rate))
        else:
            asset = assets.still(reference.target_url, clip.name, length)
        etree.SubElement(element, "video", ref=asset, offset="0s", duration=_seconds(length, frame),
                         start=_seconds(source, frame))  # fmt: skip
        if held:
            timemap = etree.SubElement(element, "timeMap")
            for at in (0, length):
                etree.SubElement(timemap, "timept", time=_seconds(at, frame), value=_seconds(source, frame),
                                 interp="linear")  # fmt: skip
    for line_start, line_length, line in lines:
        if first <= line_start < first + length:
            # A connected clip's offset is on its parent's own timeline, which starts at 0s.
            asset = assets.sound(line.media_reference.target_url, line.name, line_length)
            etree.SubElement(element, "asset-clip", ref=asset, lane="-1", name=line.name, audioRole="dialogue",
                             offset=_seconds(line_start - first, frame), duration=_seconds(line_length, frame),
                             start="0s")  # fmt: skip
    for marker in clip.markers:
        at = _frames(marker.marked_range.start_time, rate)
        # completed="0": a to-do marker, what a review note is for the editor (red, as in the EDL).
        etree.SubElement(element, "marker", start=_seconds(at, frame), duration=_seconds(1, frame),
                         value=marker.name, completed="0")  # fmt: skip


class _Assets:
    """The ``<asset>`` resources: one per file, numbered after the format (r1)."""

    def __init__(self, resources: etree._Element, frame: Fraction) -> None:
        self.resources = resources
        self.frame = frame
        self.by_url: dict[str, etree._Element] = {}

    def still(self, url: str, name: str, frames: int) -> str:
        """The asset of a still image shown for ``frames`` (a still lasts as long as it is used).
        It names no format: the editing system reads the picture's own size from the file."""
        return self._asset(url, name, frames, hasVideo="1")

    def clip(self, url: str, name: str, frames: int) -> str:
        """The asset of a clip take of ``frames`` (its own length, whatever the cut plays of it)."""
        return self._asset(url, name, frames, hasVideo="1")

    def sound(self, url: str, name: str, frames: int) -> str:
        """The asset of a mono spoken line of ``frames``."""
        return self._asset(url, name, frames, hasAudio="1", audioSources="1", audioChannels="1")

    def _asset(self, url: str, name: str, frames: int, **kind: str) -> str:
        asset = self.by_url.get(url)
        if asset is None:
            asset = etree.SubElement(self.resources, "asset", id=f"r{len(self.by_url) + 2}", name=name, src=url,
                                     start="0s", duration=_seconds(frames, self.frame), **kind)  # fmt: skip
            self.by_url[url] = asset
        elif _frames_of(asset.get("duration"), self.frame) < frames:
            asset.set("duration", _seconds(frames, self.frame))
        return str(asset.get("id"))


def _lines(timeline: otio.schema.Timeline, rate: float) -> list[tuple[int, int, otio.schema.Clip]]:
    """The spoken lines: (first frame on the timeline, frames, clip)."""
    lines = []
    for track in timeline.audio_tracks():
        for index, item in enumerate(track):
            if isinstance(item, otio.schema.Clip) and isinstance(item.media_reference, otio.schema.ExternalReference):
                placed = track.range_of_child_at_index(index)
                lines.append((_frames(placed.start_time, rate), _frames(placed.duration, rate), item))
    return lines


def _frame_duration(rate: float) -> Fraction:
    """One frame's duration, exactly: 1/24 s, or 1001/24000 s for 23.976 (OTIO keeps rates as floats)."""
    return 1 / Fraction(rate).limit_denominator(1001)


def _frames(time: otio.opentime.RationalTime, rate: float) -> int:
    return round(time.value_rescaled_to(rate))


def _seconds(frames: int, frame: Fraction) -> str:
    """``frames`` as an FCPXML time: a rational number of seconds in units of the frame duration
    ("36/24s"), as Final Cut Pro writes them."""
    if frames == 0:
        return "0s"
    return f"{frames * frame.numerator}/{frame.denominator}s"


def _frames_of(value: str | None, frame: Fraction) -> int:
    if not value or value == "0s":
        return 0
    return round(Fraction(value.removesuffix("s")) / frame)
