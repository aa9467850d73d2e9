"""The ``comfyui_video`` backend: clips made by a ComfyUI server from a video workflow template.

A video workflow is a template in ComfyUI's API format, like a still one (see comfyui.py for
the titles and the conversation with the server), built from the video nodes that ship with
ComfyUI itself: ``LoadVideo`` -> ``GetVideoComponents`` for the previs clips, a video model's
conditioning node (Wan VACE's ``WanVaceToVideo``: control video and reference image), the
sampler, ``VAEDecode``, then ``CreateVideo`` -> ``SaveVideo`` (or ``SaveWEBM``) for the take.
Its names are those of a still workflow, plus:

===================== ============================================= ==========================
name                  value                                         input written
===================== ============================================= ==========================
soundstage:frames     the take's frame count (required)             ``length``, ``frames``,
                                                                    ``num_frames``, ``value``
soundstage:fps        the frame rate, as a number                   ``fps``, ``frame_rate``,
                                                                    ``value``
soundstage:<pass>     on a LoadVideo: the pass as a clip of the     ``file`` (LoadVideo),
                      take's frames (a still held, a longer clip    ``image`` (LoadImage)
                      cut), lossless; on a LoadImage: its first
                      frame. storyboard, depth, lineart, ids
soundstage:reference  the shot's first character reference sheet;  ``image`` (LoadImage)
                      with none, the node is unplugged (removed
                      with the inputs it feeds: feed an optional
                      one, such as WanVaceToVideo's reference_image)
soundstage:output     the node that makes the take; default: the    (read, not written)
                      only SaveVideo or SaveWEBM
===================== ============================================= ==========================

A workflow without a node titled ``soundstage:frames``, or that reads no previs pass, is
refused when the take is queued (``prepare``), as is a frame count the frames node cannot
take: ComfyUI's own description of the node (``/object_info``) gives its minimum, maximum and
step (Wan's ``length`` steps by 4 from 1, so 4k+1 frames), and the refusal names the counts
that fit. The clip the server saves is decoded and written again as the take (``clips.
write_take``): frame-exact at the recipe's rate (ComfyUI's ``CreateVideo`` keeps a float
rate, which cannot say 24000/1001), and its frame count is checked against the recipe.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from soundstage.errors import GenerateError
from soundstage.generate import clips
from soundstage.generate.backend import DEPTH, LINEART, REFERENCE_PREFIX, STORYBOARD, Inputs, Recipe
from soundstage.generate.comfyui import (
    PREFIX,
    SCALAR_INPUTS,
    ComfyUIBackend,
    ComfyUISettings,
    Workflow,
    _Connection,
    _is_role,
)

REFERENCE = "reference"
FRAMES = "frames"
PASSES = (STORYBOARD, DEPTH, LINEART)
# Checked against ComfyUI's source (comfy_extras/nodes_video.py): the two core nodes that save
# a clip. SaveAnimatedWEBP and SaveAnimatedPNG also save frames, as images FFmpeg cannot read
# back as a clip, so they are not takes here.
VIDEO_OUTPUTS = ("SaveVideo", "SaveWEBM")


class ComfyUIVideoSettings(ComfyUISettings):
    """``[generate.comfyui_video]`` in soundstage.toml: the same keys as ``[generate.comfyui]``,
    with a video workflow (e.g. examples/comfyui/soundstage_wan_vace.json)."""


class VideoWorkflow(Workflow):
    """A video workflow template read from disk, with its named nodes found and checked."""

    SCALARS: ClassVar[dict[str, tuple[str, ...]]] = {
        **SCALAR_INPUTS,
        FRAMES: ("length", "frames", "num_frames", "value"),
        "fps": ("fps", "frame_rate", "value"),
    }
    MEDIA_INPUTS: ClassVar[tuple[str, ...]] = ("file", "image")  # LoadVideo's, LoadImage's
    OUTPUT_CLASSES: ClassVar[tuple[str, ...]] = VIDEO_OUTPUTS
    OUTPUT_KIND: ClassVar[str] = "an MP4 or WebM clip"

    @classmethod
    def knows(cls, name: str) -> bool:
        return name == REFERENCE or super().knows(name)

    @staticmethod
    def is_output(content: bytes) -> bool:
        return clips.kind_of(content) in ("mp4", "mkv")

    def check(self, recipe: Recipe) -> None:
        """As a still workflow, and it must save a clip, take the frame count and read a previs pass."""
        output = self.graph[self.output]["class_type"]
        if output not in VIDEO_OUTPUTS:
            raise GenerateError(
                f"{self.path}: the output node {self.output} ({output}) does not save a clip; "
                f"a video workflow ends in {' or '.join(VIDEO_OUTPUTS)}"
            )
        super().check(recipe)
        if FRAMES not in self.named:
            raise GenerateError(
                f"{self.path}: no node titled {PREFIX}{FRAMES}, which the clip of shot {recipe.shot} needs "
                "(title the node that sets the clip's length)"
            )
        if not any(name in self.named for name in PASSES):
            raise GenerateError(
                f"{self.path}: the workflow reads no previs pass, so the clip of shot {recipe.shot} would ignore "
                f"its blocking; title a LoadVideo {PREFIX}depth, {PREFIX}lineart or {PREFIX}storyboard"
            )

    def values(self, recipe: Recipe) -> dict[str, Any]:
        return {**super().values(recipe), FRAMES: recipe.frames, "fps": float(recipe.frame_rate)}

    def reads_clip(self, name: str) -> bool:
        """Whether the nodes of a name load a clip (LoadVideo's ``file``) rather than an image."""
        node_id = self.named[name][0]
        return self.input_for(self.path, node_id, self.graph[node_id], name) == "file"

    def fill(self, recipe: Recipe, images: dict[str, str]) -> dict[str, Any]:
        unplugged = REFERENCE in self.named and REFERENCE not in images
        graph = super().fill(recipe, {**images, REFERENCE: ""} if unplugged else images)
        if unplugged:
            for node_id in self.named[REFERENCE]:
                _unplug(graph, node_id)
        return graph


def _unplug(graph: dict[str, Any], node_id: str) -> None:
    """Remove a node and every input that reads from it."""
    del graph[node_id]
    for node in graph.values():
        for key in [k for k, v in node["inputs"].items() if isinstance(v, list) and str(v[0]) == node_id]:
            del node["inputs"][key]


class ComfyUIVideoBackend(ComfyUIBackend):
    """Clips made by a ComfyUI server running the configured video workflow template."""

    name: ClassVar[str] = "comfyui_video"
    workflow_kind: ClassVar[type[Workflow]] = VideoWorkflow

    def __init__(self, settings: ComfyUIVideoSettings) -> None:
        super().__init__(settings)
        # Workflow sha256 -> (node, its class, min, max, step) of the frames input, from /object_info.
        self._frame_limits: dict[str, tuple[str, str, int, int, int]] = {}

    def _inspect(self, server: _Connection, workflow: Workflow) -> None:
        node_id = workflow.named[FRAMES][0]
        node = workflow.graph[node_id]
        key = workflow.input_for(workflow.path, node_id, node, FRAMES)
        described = server.describe(node["class_type"]).get("input", {})
        spec = {**described.get("optional", {}), **described.get("required", {})}.get(key)
        limits = spec[1] if isinstance(spec, list) and len(spec) > 1 and isinstance(spec[1], dict) else {}
        low, high = int(limits.get("min", 1)), int(limits.get("max", 100_000))
        self._frame_limits[workflow.sha256] = (node_id, node["class_type"], low, high, int(limits.get("step", 1)))

    def _check(self, recipe: Recipe, workflow: Workflow) -> None:
        if workflow.sha256 not in self._frame_limits:
            return
        node_id, class_type, low, high, step = self._frame_limits[workflow.sha256]
        frames, where = recipe.frames, f"{workflow.path.name} node {node_id} ({class_type})"
        if frames < low or frames > high:
            raise GenerateError(f"shot {recipe.shot}: {where} takes {low} to {high} frames, not {frames}")
        if step > 1 and (frames - low) % step:
            below = low + (frames - low) // step * step
            raise GenerateError(
                f"shot {recipe.shot}: {where} makes {low} + {step}k frames and {frames} is not one; "
                f"use {below} or {below + step} (--frames)"
            )

    def _media(self, server: _Connection, workflow: Workflow, recipe: Recipe, inputs: Inputs) -> dict[str, str]:
        """Upload the passes and the sheet the workflow names: a pass as a clip of the take's
        frames where a LoadVideo reads it, as its first frame where a LoadImage does."""
        assert isinstance(workflow, VideoWorkflow)
        sheets = sorted(role for role in recipe.conditioning if role.startswith(REFERENCE_PREFIX))
        uploaded = {}
        for name in workflow.named:
            role = sheets[0] if name == REFERENCE and sheets else name
            if not (_is_role(role) and role in recipe.conditioning):
                continue
            what = f"shot {recipe.shot}: the {role} pass"
            picture = clips.read_clip(inputs.read(recipe.conditioning[role]), what)
            if workflow.reads_clip(name):
                frames = clips.pass_frames(picture, recipe.frames, recipe.frame_rate, what)
                data = clips.write_clip(frames, recipe.frame_rate, lossless=True)
            else:
                data = clips.write_take([clips.rgb8(picture.frames[0])], recipe.frame_rate)
            uploaded[name] = server.upload(hashlib.sha256(data).hexdigest(), data)
        return uploaded

    def _take(self, made: bytes, recipe: Recipe, workflow: Workflow) -> bytes:
        """The take: the server's clip decoded and written again, frame-exact at the recipe's rate."""
        clip = clips.read_clip(made, f"the clip ComfyUI made with {workflow.path.name}")
        if len(clip.frames) != recipe.frames:
            raise GenerateError(
                f"ComfyUI made {len(clip.frames)} frames with {workflow.path.name}; the take of shot {recipe.shot} "
                f"needs {recipe.frames} (does {PREFIX}{FRAMES} reach the node that sets the length?)"
            )
        return clips.write_take([clips.rgb8(frame) for frame in clip.frames], recipe.frame_rate)
