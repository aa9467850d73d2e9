"""The comfyui_video backend against the ComfyUI-shaped server (comfy_server.py): the example
Wan VACE workflow built from ComfyUI's core video nodes, the previs clips and the reference
sheet reaching the graph, frame counts checked against the server's own node description,
determinism, and every refusal as one line."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from soundstage.errors import GenerateError
from soundstage.generate import clips
from soundstage.generate.backend import DEPTH, LINEART, STORYBOARD, Recipe
from soundstage.generate.comfyui import ComfyUIBackend, ComfyUISettings
from soundstage.generate.comfyui_video import ComfyUIVideoBackend, ComfyUIVideoSettings, VideoWorkflow
from soundstage.generate.metadata import embed_recipe, read_recipe

from .comfy_server import ComfyServer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "comfyui" / "soundstage_wan_vace.json"
STILLS = EXAMPLE.with_name("soundstage_controlnet.json")
WIDTH, HEIGHT, FRAMES, FPS = 64, 48, 9, "24000/1001"


class MemoryInputs:
    """Passes and sheets by sha256, as the media store would hand them over."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        self.blobs[sha] = data
        return sha

    def read(self, sha256: str) -> bytes:
        return self.blobs[sha256]


@pytest.fixture
def comfy() -> Iterator[ComfyServer]:
    with ComfyServer() as server:
        yield server


@pytest.fixture
def inputs() -> MemoryInputs:
    return MemoryInputs()


def _depth(frames: int = FRAMES, start: int = 10) -> bytes:
    """16-bit depth as previs writes it (FFV1 Matroska): a near figure crossing left to right."""
    x = np.arange(WIDTH)
    pictures = []
    for frame in range(frames):
        near = np.abs(x - (start + 5 * frame)) < 8
        pictures.append(np.tile(np.where(near, 60000, 6000).astype(np.uint16), (HEIGHT, 1)))
    return clips.write_clip(pictures, Fraction(FPS), lossless=True)


def _sheet(colour: tuple[int, int, int]) -> bytes:
    return clips.write_take([np.full((40, 30, 3), colour, np.uint8)], Fraction(24))


def recipe(inputs: MemoryInputs, **fields: Any) -> Recipe:
    values: dict[str, Any] = {
        "shot": "3A", "backend": "comfyui_video", "prompt": "a lamplighter walks the harbour wall at dusk",
        "negative_prompt": "text, watermark", "seed": 41, "width": WIDTH, "height": HEIGHT,
        "frames": FRAMES, "fps": FPS, "conditioning": {DEPTH: inputs.put(_depth())},
    }  # fmt: skip
    return Recipe(**{**values, **fields})


def template(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    graph = json.loads(EXAMPLE.read_text())
    change(graph)
    path = tmp_path / EXAMPLE.name
    path.write_text(json.dumps(graph))
    return path


def backend(url: str, workflow: Path = EXAMPLE) -> ComfyUIVideoBackend:
    return ComfyUIVideoBackend(ComfyUIVideoSettings(url=url, workflow=workflow, timeout_s=10.0))


def take(comfy: ComfyServer, inputs: MemoryInputs, *recipes: Recipe, workflow: Path = EXAMPLE) -> list[bytes]:
    made = backend(comfy.url, workflow)
    return made.generate([made.prepare(r) for r in recipes], inputs, lambda fraction: None)


def frames(clip: bytes) -> list[np.ndarray]:
    return [frame.astype(np.float64) for frame in clips.read_clip(clip, "the take").frames]


def _figure(frame: np.ndarray) -> float:
    """The column at the centre of the frame's bright (near) part."""
    columns = frame.mean(axis=(0, 2))
    bright = columns > (columns.min() + columns.max()) / 2
    return float(np.mean(np.nonzero(bright)[0]))


def last_graph(comfy: ComfyServer) -> dict[str, Any]:
    return list(comfy.history.values())[-1]["prompt"][2]


def test_the_example_names_every_value_of_a_video_take() -> None:
    workflow = VideoWorkflow.load(EXAMPLE)
    assert workflow.named == {
        "prompt": ["5"], "negative": ["6"], "depth": ["7"], "reference": ["9"], "width": ["10"], "height": ["10"],
        "frames": ["10"], "seed": ["11"], "steps": ["11"], "guidance": ["11"], "fps": ["14"], "output": ["15"],
    }  # fmt: skip
    assert workflow.reads_clip("depth") and not workflow.reads_clip("reference")


def test_a_clip_follows_the_depth_pass_frame_by_frame(comfy: ComfyServer, inputs: MemoryInputs) -> None:
    made = backend(comfy.url)
    prepared = made.prepare(recipe(inputs))
    assert prepared.model == EXAMPLE.name and (prepared.steps, prepared.guidance) == (20, 5.0)
    clip = made.generate([prepared], inputs, lambda fraction: None)[0]
    assert clips.kind_of(clip) == "mp4"
    decoded = clips.read_clip(clip, "the take")
    assert len(decoded.frames) == FRAMES and decoded.fps == Fraction(24000, 1001)  # not ComfyUI's 23.976
    # The recipe's values reached their nodes.
    graph = last_graph(comfy)
    assert (graph["10"]["inputs"]["length"], graph["10"]["inputs"]["width"], graph["14"]["inputs"]["fps"]) == (
        FRAMES,
        WIDTH,
        pytest.approx(24000 / 1001),
    )
    assert graph["5"]["inputs"]["text"] == prepared.prompt and graph["11"]["inputs"]["seed"] == 41
    # The depth clip went up as a lossless clip of the take's frames, and it steers each frame:
    # the bright (near) figure moves right, frame by frame, as blocked.
    uploaded = comfy.inputs()[graph["7"]["inputs"]["file"]]
    assert clips.kind_of(uploaded) == "mkv" and len(clips.read_clip(uploaded, "upload").frames) == FRAMES
    centres = [_figure(frame) for frame in frames(clip)]
    assert all(later - earlier == pytest.approx(5, abs=1) for earlier, later in zip(centres, centres[1:]))
    # Same recipe, same bytes (ComfyUI's cache answers the second run); another seed, another clip.
    assert take(comfy, inputs, prepared)[0] == clip
    other = take(comfy, inputs, prepared.model_copy(update={"seed": 42}))[0]
    assert clips.compare_clips(other, clip) == (False, 0)
    assert read_recipe(embed_recipe(clip, prepared)) == prepared


def test_the_reference_sheet_tints_the_clip_and_is_unplugged_without_one(
    comfy: ComfyServer, inputs: MemoryInputs
) -> None:
    plain = take(comfy, inputs, recipe(inputs))[0]
    assert "9" not in last_graph(comfy)
    assert "reference_image" not in last_graph(comfy)["10"]["inputs"]
    sheets = {"reference:MAISIE": inputs.put(_sheet((250, 20, 20))), "reference:TOM": inputs.put(_sheet((20, 20, 250)))}
    with_sheet = recipe(inputs, conditioning={**recipe(inputs).conditioning, **sheets})
    tinted = take(comfy, inputs, with_sheet)[0]
    graph = last_graph(comfy)
    assert graph["10"]["inputs"]["reference_image"] == ["9", 0]
    # The first sheet in role order (MAISIE, red) is the reference, uploaded as a PNG.
    assert clips.kind_of(comfy.inputs()[graph["9"]["inputs"]["image"]]) == "png"
    assert len(frames(tinted)) == FRAMES  # the reference frame was trimmed off
    red = [frame[..., 0].mean() - frame[..., 2].mean() for frame in frames(tinted)]
    plain_red = [frame[..., 0].mean() - frame[..., 2].mean() for frame in frames(plain)]
    assert all(r > p + 20 for r, p in zip(red, plain_red, strict=True))


def test_a_still_pass_is_held_and_a_longer_clip_cut(comfy: ComfyServer, inputs: MemoryInputs) -> None:
    still = clips.write_take([clips.read_clip(_depth(), "depth").frames[0]], Fraction(24))
    held = take(comfy, inputs, recipe(inputs, conditioning={DEPTH: inputs.put(still)}))[0]
    uploaded = clips.read_clip(comfy.inputs()[last_graph(comfy)["7"]["inputs"]["file"]], "upload")
    assert len(uploaded.frames) == FRAMES and all(np.array_equal(f, uploaded.frames[0]) for f in uploaded.frames)
    assert len(frames(held)) == FRAMES
    longer = take(comfy, inputs, recipe(inputs, conditioning={DEPTH: inputs.put(_depth(frames=20))}))[0]
    assert longer == take(comfy, inputs, recipe(inputs))[0]


def test_workflows_without_the_titled_nodes_are_refused_at_queue_time(
    comfy: ComfyServer, inputs: MemoryInputs, tmp_path: Path
) -> None:
    def refused(workflow: Path, pattern: str, made: Recipe | None = None) -> None:
        with pytest.raises(GenerateError, match=pattern) as caught:
            backend(comfy.url, workflow).prepare(made or recipe(inputs))
        assert "\n" not in str(caught.value)
        assert not comfy.history  # nothing was queued

    def untitle(node: str) -> Callable[[dict[str, Any]], None]:
        return lambda graph: graph[node]["_meta"].update(title="plain")

    refused(template(tmp_path, untitle("10")), r"no node titled soundstage:frames, which the clip of shot 3A needs")
    refused(template(tmp_path, untitle("7")), r"reads no previs pass, so the clip of shot 3A would ignore its blocking")
    refused(template(tmp_path, untitle("5")), r"no node titled soundstage:prompt")

    def two_outputs(graph: dict[str, Any]) -> None:
        untitle("15")(graph)
        graph["16"] = {**graph["15"], "inputs": {**graph["15"]["inputs"], "filename_prefix": "other"}}

    refused(
        template(tmp_path, two_outputs),
        r"2 output nodes \(15, 16\); title the one that makes the take soundstage:output",
    )
    refused(
        STILLS, r"the output node 15 \(SaveImage\) does not save a clip; a video workflow ends in SaveVideo or SaveWEBM"
    )
    refused(template(tmp_path, lambda graph: graph.pop("15")), r"no output nodes \(no SaveVideo or SaveWEBM\)")
    lineart = template(tmp_path, lambda graph: graph["7"]["_meta"].update(title="soundstage:lineart"))
    refused(lineart, r"the workflow loads soundstage:lineart but shot 3A has no such image")
    # Wan's length steps by 4 from 1 (the server says so in /object_info): 10 frames cannot be made.
    refused(
        EXAMPLE,
        r"^shot 3A: soundstage_wan_vace.json node 10 \(WanVaceToVideo\) makes 1 \+ 4k frames and 10 is not one; use 9 or 13",
        recipe(inputs, frames=10),
    )
    # The still backend refuses a take that moves, and the video one a still workflow.
    with pytest.raises(GenerateError, match=r"the comfyui backend makes stills; a take of 9 frames"):
        ComfyUIBackend(ComfyUISettings(url=comfy.url, workflow=STILLS)).prepare(recipe(inputs))


def test_a_clip_of_the_wrong_length_or_rate_is_refused(
    comfy: ComfyServer, inputs: MemoryInputs, tmp_path: Path
) -> None:
    # A template whose length is wired to a fixed value the recipe does not reach.
    def fixed_length(graph: dict[str, Any]) -> None:
        graph["10"]["_meta"]["title"] = "soundstage:width, soundstage:height"
        graph["14"]["_meta"]["title"] = "soundstage:fps, soundstage:frames"
        graph["14"]["inputs"]["frames"] = 0  # a made-up input: the server refuses nothing it does not check

    with pytest.raises(
        GenerateError, match=r"^ComfyUI made 81 frames with soundstage_wan_vace.json; the take of shot 3A needs 9"
    ):
        take(comfy, inputs, recipe(inputs), workflow=template(tmp_path, fixed_length))
    slow = recipe(inputs, conditioning={DEPTH: clips_at(inputs, "25")})
    with pytest.raises(GenerateError, match=r"^shot 3A: the depth pass runs at 25 fps, the take at 24000/1001"):
        take(comfy, inputs, slow)


def clips_at(inputs: MemoryInputs, fps: str) -> str:
    pictures = clips.read_clip(_depth(), "depth").frames
    return inputs.put(clips.write_clip(pictures, Fraction(fps), lossless=True))


def test_storyboard_and_lineart_clips_go_where_their_titles_say(
    comfy: ComfyServer, inputs: MemoryInputs, tmp_path: Path
) -> None:
    # The line art pass as a second control: a LoadImage titled storyboard gets the first frame.
    def more(graph: dict[str, Any]) -> None:
        graph["7"]["_meta"]["title"] = "soundstage:lineart"
        graph["16"] = {
            "class_type": "LoadImage",
            "inputs": {"image": "x.png"},
            "_meta": {"title": "soundstage:storyboard"},
        }
        graph["17"] = {"class_type": "PreviewImage", "inputs": {"images": ["16", 0]}, "_meta": {"title": "look"}}

    board = [np.full((HEIGHT, WIDTH, 3), (10 * f, 80, 120), np.uint8) for f in range(FRAMES)]
    conditioning = {
        LINEART: inputs.put(_depth()),
        STORYBOARD: inputs.put(clips.write_clip(board, Fraction(FPS), lossless=True)),
    }
    made = take(comfy, inputs, recipe(inputs, conditioning=conditioning), workflow=template(tmp_path, more))[0]
    graph = last_graph(comfy)
    first = clips.read_clip(comfy.inputs()[graph["16"]["inputs"]["image"]], "upload")
    assert first.still and np.array_equal(first.frames[0], board[0])
    assert clips.kind_of(comfy.inputs()[graph["7"]["inputs"]["file"]]) == "mkv"
    assert len(frames(made)) == FRAMES
