"""The comfyui backend against a ComfyUI-shaped server (comfy_server.py): the example workflow
template, the named inputs reaching the graph, determinism, and every failure as one line."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from websockets.sync.client import connect

from soundstage.errors import ConfigError, GenerateError, TransientGenerateError
from soundstage.generate.backend import DEPTH, IDS, LINEART, STORYBOARD, Recipe
from soundstage.generate.comfyui import ComfyUIBackend, ComfyUISettings, Workflow, loadable_png
from soundstage.render.previs import to_png

from . import comfy_server
from .comfy_server import ComfyServer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "comfyui" / "soundstage_controlnet.json"
WIDTH, HEIGHT = 96, 54


class MemoryInputs:
    """Conditioning images by sha256, as the media store would hand them over."""

    def __init__(self) -> None:
        self.images: dict[str, bytes] = {}

    def put(self, png: bytes) -> str:
        sha = hashlib.sha256(png).hexdigest()
        self.images[sha] = png
        return sha

    def read(self, sha256: str) -> bytes:
        return self.images[sha256]


@pytest.fixture
def comfy() -> Iterator[ComfyServer]:
    with ComfyServer() as server:
        yield server


@pytest.fixture
def inputs() -> MemoryInputs:
    return MemoryInputs()


@pytest.fixture
def passes(inputs: MemoryInputs) -> dict[str, str]:
    """The four previs passes, encoded as previs encodes them: a storyboard red on the left and
    blue on the right, 16-bit depth near (bright) on the left, line art, empty character ids."""
    board = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    board[:, : WIDTH // 2] = (200, 30, 30)
    board[:, WIDTH // 2 :] = (30, 30, 200)
    depth = np.tile(np.linspace(65535, 0, WIDTH).astype(np.uint16), (HEIGHT, 1))
    lines = np.zeros((HEIGHT, WIDTH), np.uint8)
    lines[::9] = 255
    ids = np.zeros((HEIGHT, WIDTH), np.uint8)
    return {
        STORYBOARD: inputs.put(to_png(board)),
        DEPTH: inputs.put(to_png(depth)),
        LINEART: inputs.put(to_png(lines)),
        IDS: inputs.put(to_png(ids)),
    }


def template(tmp_path: Path, change: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """The example template, changed by ``change``, in a file of the same name under tmp_path."""
    graph = json.loads(EXAMPLE.read_text())
    if change is not None:
        change(graph)
    path = tmp_path / EXAMPLE.name
    path.write_text(json.dumps(graph))
    return path


def backend(url: str, workflow: Path, timeout_s: float = 10.0) -> ComfyUIBackend:
    return ComfyUIBackend(ComfyUISettings(url=url, workflow=workflow, timeout_s=timeout_s))


def recipe(passes: dict[str, str], **fields: Any) -> Recipe:
    values: dict[str, Any] = {
        "shot": "3A", "backend": "comfyui", "prompt": "a lamplighter on the harbour wall at dusk",
        "negative_prompt": "text, watermark", "seed": 41, "width": WIDTH, "height": HEIGHT, "conditioning": passes,
    }  # fmt: skip
    return Recipe(**{**values, **fields})


def take(comfy: ComfyServer, workflow: Path, inputs: MemoryInputs, *recipes: Recipe) -> list[bytes]:
    made = backend(comfy.url, workflow)
    return made.generate([made.prepare(r) for r in recipes], inputs, lambda fraction: None)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float64)


def last_graph(comfy: ComfyServer) -> dict[str, Any]:
    entry = list(comfy.history.values())[-1]
    return entry["prompt"][2]


# -- the template and its named inputs --------------------------------------------------------


def test_example_template_names_every_value_of_a_controlnet_take() -> None:
    workflow = Workflow.load(EXAMPLE)
    assert workflow.named == {
        "prompt": ["2"], "negative": ["3"], "storyboard": ["4"], "width": ["5"], "height": ["5"],
        "depth": ["7"], "lineart": ["10"], "seed": ["13"], "steps": ["13"], "guidance": ["13"],
        "strength": ["13"], "output": ["15"],
    }  # fmt: skip
    assert workflow.output == "15"
    assert workflow.sha256 == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()


def test_prepare_records_the_workflow_as_the_model(comfy: ComfyServer, passes: dict[str, str]) -> None:
    made = backend(comfy.url, EXAMPLE)
    prepared = made.prepare(recipe(passes))
    assert prepared.model == "soundstage_controlnet.json"
    assert prepared.weights_sha256 == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    assert prepared.backend_version.endswith("(ComfyUI 0.3.64, PyTorch test stand-in)")
    # The template's own sampler settings become the recipe's, so the stored recipe is complete.
    assert (prepared.steps, prepared.guidance) == (25, 6.5)
    chosen = made.prepare(recipe(passes, steps=40, guidance=3.0))
    assert (chosen.steps, chosen.guidance) == (40, 3.0)


def test_the_recipe_reaches_the_graph(comfy: ComfyServer, inputs: MemoryInputs, passes: dict[str, str]) -> None:
    made = backend(comfy.url, EXAMPLE)
    prepared = made.prepare(recipe(passes, steps=12))
    fractions: list[float] = []
    [png] = made.generate([prepared], inputs, fractions.append)

    graph = last_graph(comfy)
    assert graph["2"]["inputs"]["text"] == "a lamplighter on the harbour wall at dusk"
    assert graph["3"]["inputs"]["text"] == "text, watermark"
    sampler = graph["13"]["inputs"]
    assert (sampler["seed"], sampler["steps"], sampler["cfg"], sampler["denoise"]) == (41, 12, 6.5, 1.0)
    assert sampler["positive"] == ["12", 0]  # links stay links
    assert (graph["5"]["inputs"]["width"], graph["5"]["inputs"]["height"]) == (WIDTH, HEIGHT)
    for node, role in (("4", STORYBOARD), ("7", DEPTH), ("10", LINEART)):
        assert graph[node]["inputs"]["image"] == f"soundstage-{passes[role]}.png"
    # Only what the template loads is uploaded: it has no node for the character ids.
    assert sorted(comfy.inputs()) == sorted(f"soundstage-{passes[r]}.png" for r in (STORYBOARD, DEPTH, LINEART))

    # The depth the graph loaded is the 8-bit form of the 16-bit pass, not LoadImage's clipped white.
    uploaded = np.asarray(Image.open(io.BytesIO(comfy.inputs()[f"soundstage-{passes[DEPTH]}.png"])))
    assert uploaded.dtype == np.uint8 and (uploaded[0, 0], uploaded[0, -1]) == (255, 0)
    image = pixels(png)
    assert image.shape == (HEIGHT, WIDTH, 3)
    left, right = image[:, : WIDTH // 4].mean(), image[:, -WIDTH // 4 :].mean()
    assert left > 2 * right  # near is bright in the depth pass, and so in the take

    assert json.loads(Image.open(io.BytesIO(png)).text["prompt"]) == graph  # ComfyUI's own record
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(0 < f < 1 for f in fractions)


def test_same_recipe_same_bytes_and_every_input_changes_them(
    comfy: ComfyServer, inputs: MemoryInputs, passes: dict[str, str]
) -> None:
    first, again, other_prompt, other_seed = take(
        comfy, EXAMPLE, inputs,
        recipe(passes), recipe(passes), recipe(passes, prompt="the ferry in the storm"), recipe(passes, seed=42),
    )  # fmt: skip
    assert first == again  # the second run was all cached, as ComfyUI does it
    assert len({first, other_prompt, other_seed}) == 3
    with ComfyServer() as fresh:
        assert take(fresh, EXAMPLE, inputs, recipe(passes)) == [first]
    # Uploading the same images again stores no second copy.
    assert len(comfy.inputs()) == 3


def test_strength_keeps_the_storyboard(comfy: ComfyServer, inputs: MemoryInputs, passes: dict[str, str]) -> None:
    kept, ignored = take(comfy, EXAMPLE, inputs, recipe(passes, strength=0.0), recipe(passes, strength=1.0))
    board = pixels(inputs.read(passes[STORYBOARD]))
    assert np.abs(pixels(kept) - board).max() <= 1
    assert np.abs(pixels(ignored) - board).mean() > 20


def test_sixteen_bit_grey_is_narrowed_and_other_images_pass_unchanged(
    passes: dict[str, str], inputs: MemoryInputs
) -> None:
    depth = np.array([[65535, 32896, 257, 0]], np.uint16)
    assert np.asarray(Image.open(io.BytesIO(loadable_png(to_png(depth))))).tolist() == [[255, 128, 1, 0]]
    board = inputs.read(passes[STORYBOARD])
    assert loadable_png(board) is board


# -- template mistakes: one line naming the file -----------------------------------------------


def _retitle(node: str, title: str) -> Callable[[dict[str, Any]], None]:
    return lambda graph: graph[node]["_meta"].update(title=title)


def _editor_format(graph: dict[str, Any]) -> None:
    graph.clear()
    graph.update(nodes=[], links=[], version=0.4)


def _two_saves(graph: dict[str, Any]) -> None:
    graph["15"]["_meta"]["title"] = "Save Image"
    graph["16"] = copy.deepcopy(graph["15"])


@pytest.mark.parametrize(
    ("change", "options", "message"),
    [
        (_retitle("2", "Positive"), {}, "no node titled soundstage:prompt, which the take of shot 3A needs"),
        (_retitle("13", "soundstage:steps"), {}, "no node titled soundstage:seed, which the take of shot 3A needs"),
        (
            _retitle("13", "soundstage:seed, soundstage:steps"),
            {"guidance": 5.0, "strength": 0.4},
            "no node titled soundstage:guidance, soundstage:strength, which the take of shot 3A needs",
        ),
        (_retitle("2", "soundstage:promt"), {}, "node 2 has the unknown name soundstage:promt"),
        (
            _retitle("7", "soundstage:depth, soundstage:steps"),
            {},
            "node 7 (LoadImage) is titled soundstage:steps but has no steps or value input to write",
        ),
        (
            _retitle("10", "soundstage:reference:MAISIE"),
            {},
            "the workflow loads soundstage:reference:MAISIE but shot 3A has no such image",
        ),
        (_two_saves, {}, "2 output nodes (15, 16); title the one that makes the take soundstage:output"),
        (_editor_format, {}, "this is ComfyUI's editor format; save the workflow with Export (API)"),
    ],
    ids=["prompt", "seed", "set-values", "typo", "no-input", "missing-image", "two-outputs", "editor-format"],
)
def test_template_mistakes(
    tmp_path: Path, passes: dict[str, str], change: Callable, options: dict[str, Any], message: str
) -> None:
    path = template(tmp_path, change)
    with pytest.raises(GenerateError) as failure:
        backend("http://127.0.0.1:9", path).prepare(recipe(passes, **options))
    assert str(failure.value) == f"{path}: {message}"


def test_unreadable_templates(tmp_path: Path, passes: dict[str, str]) -> None:
    missing = tmp_path / "gone.json"
    with pytest.raises(
        GenerateError, match=rf"^{re.escape(str(missing))}: cannot read the workflow template \(No such file"
    ):
        Workflow.load(missing)
    broken = tmp_path / "broken.json"
    broken.write_text('{"1": {"class_type": ')
    with pytest.raises(
        GenerateError, match=rf"^{re.escape(str(broken))}: the workflow template is not JSON \(Expecting value"
    ):
        Workflow.load(broken)
    with pytest.raises(ConfigError, match=r"^\[generate.comfyui\] workflow is not set"):
        ComfyUIBackend(ComfyUISettings()).prepare(recipe(passes))


# -- the server's failures: one line each ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_server_that_is_not_there(comfy: ComfyServer, inputs: MemoryInputs, passes: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(GenerateError, match=rf"^ComfyUI at {re.escape(url)} is not reachable \(.*refused"):
        backend(url, EXAMPLE).prepare(recipe(passes))
    prepared = backend(comfy.url, EXAMPLE).prepare(recipe(passes))
    with pytest.raises(GenerateError, match=rf"^ComfyUI at {re.escape(url)} is not reachable \(.*refused"):
        backend(url, EXAMPLE).generate([prepared], inputs, lambda fraction: None)


def _steps_zero(graph: dict[str, Any]) -> None:
    graph["13"]["inputs"]["steps"] = 0
    graph["13"]["_meta"]["title"] = "soundstage:seed, soundstage:guidance, soundstage:strength"


def _unknown_node(graph: dict[str, Any]) -> None:
    graph["14"]["class_type"] = "VAEDecodeTiledPlus"


def _no_outputs(graph: dict[str, Any]) -> None:
    del graph["15"]
    graph["14"]["_meta"]["title"] = "soundstage:output"


def _missing_checkpoint(graph: dict[str, Any]) -> None:
    graph["1"]["inputs"]["ckpt_name"] = "sd_xl_base_1.0.safetensors"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_steps_zero, "Prompt outputs failed validation; node 13 (KSampler): Value 0 smaller than min of 1: steps"),
        (_no_outputs, "Prompt has no outputs"),
        (
            _missing_checkpoint,
            "Prompt outputs failed validation; node 1 (CheckpointLoaderSimple): Value not in list: "
            "ckpt_name: 'sd_xl_base_1.0.safetensors' not in ['v1-5-pruned-emaonly.safetensors']",
        ),
    ],
    ids=["steps-below-min", "no-outputs", "missing-checkpoint"],
)
def test_refused_workflows(
    comfy: ComfyServer, inputs: MemoryInputs, passes: dict[str, str], tmp_path: Path, change: Callable, message: str
) -> None:
    with pytest.raises(GenerateError) as failure:
        take(comfy, template(tmp_path, change), inputs, recipe(passes))
    assert str(failure.value) == f"ComfyUI refused the workflow soundstage_controlnet.json: {message}"


def test_a_node_class_the_server_lacks_is_refused_when_the_take_is_queued(
    comfy: ComfyServer, passes: dict[str, str], tmp_path: Path
) -> None:
    path = template(tmp_path, _unknown_node)
    with pytest.raises(GenerateError) as failure:
        backend(comfy.url, path).prepare(recipe(passes))
    assert not isinstance(failure.value, TransientGenerateError)
    assert str(failure.value) == (
        f"{path}: ComfyUI at {comfy.url} has no node class VAEDecodeTiledPlus (node 14); "
        "install the custom node that provides it or change the workflow"
    )
    assert comfy.history == {}  # nothing was queued on the server


def test_unreachable_servers_are_transient_and_node_failures_permanent(
    comfy: ComfyServer, inputs: MemoryInputs, passes: dict[str, str]
) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(TransientGenerateError):
        backend(url, EXAMPLE).prepare(recipe(passes))
    comfy.faults.add(comfy_server.EXECUTION_ERROR)
    with pytest.raises(GenerateError) as failure:
        take(comfy, EXAMPLE, inputs, recipe(passes))
    assert not isinstance(failure.value, TransientGenerateError)


def test_a_server_that_dies_mid_take_is_a_transient_failure(inputs: MemoryInputs, passes: dict[str, str]) -> None:
    server = ComfyServer(faults={comfy_server.SLOW}).start()
    made = backend(server.url, EXAMPLE)
    prepared = made.prepare(recipe(passes))
    killer = threading.Timer(0.3, server.stop)
    killer.start()
    try:
        with pytest.raises(TransientGenerateError, match=rf"^ComfyUI at {re.escape(server.url)} "):
            made.generate([prepared], inputs, lambda fraction: None)
    finally:
        killer.join()


OOM = "raised torch.OutOfMemoryError: Allocation on device would exceed allowed memory. (out of memory)"


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            comfy_server.CRASH,
            "ComfyUI at {url} answered HTTP 500 to POST /prompt: 500 Internal Server Error Server got itself in trouble",
        ),
        (comfy_server.EXECUTION_ERROR, f"ComfyUI failed running soundstage_controlnet.json: node 13 (KSampler) {OOM}"),
        (comfy_server.SILENT_ERROR, f"ComfyUI failed running soundstage_controlnet.json: node 13 (KSampler) {OOM}"),
        (
            comfy_server.LOST_OUTPUTS,
            "ComfyUI at {url} made no image at output node 15 (SaveImage) of soundstage_controlnet.json (prompt {id})",
        ),
        (comfy_server.LOST_FILES, "ComfyUI at {url} has no file soundstage/take_00001_.png (output) of prompt {id}"),
    ],
    ids=["http-500", "execution-error", "error-only-in-history", "no-output", "no-file"],
)
def test_server_failures(
    comfy: ComfyServer, inputs: MemoryInputs, passes: dict[str, str], fault: str, message: str
) -> None:
    comfy.faults.add(fault)
    with pytest.raises(GenerateError) as failure:
        take(comfy, EXAMPLE, inputs, recipe(passes))
    prompt_id = next(iter(comfy.history), "")
    assert str(failure.value) == message.format(url=comfy.url, id=prompt_id)


def test_a_prompt_that_outlasts_the_timeout_is_cancelled(
    comfy: ComfyServer, inputs: MemoryInputs, passes: dict[str, str]
) -> None:
    comfy.faults.add(comfy_server.SLOW)  # 25 steps of 50 ms
    made = backend(comfy.url, EXAMPLE, timeout_s=0.3)
    prepared = made.prepare(recipe(passes))
    started = time.monotonic()
    with pytest.raises(GenerateError, match=r"did not finish soundstage_controlnet.json \(prompt (\S+)\) within 0.3 s"):
        made.generate([prepared], inputs, lambda fraction: None)
    assert time.monotonic() - started < 1.0
    for _ in range(40):  # the server stops the sampler at its next step
        if comfy.interrupted:
            break
        time.sleep(0.05)
    assert comfy.interrupted == comfy.deleted and len(comfy.interrupted) == 1


def test_a_workflow_edited_after_prepare(
    comfy: ComfyServer, inputs: MemoryInputs, passes: dict[str, str], tmp_path: Path
) -> None:
    path = template(tmp_path)
    made = backend(comfy.url, path)
    prepared = made.prepare(recipe(passes))
    template(tmp_path, lambda graph: graph["13"]["inputs"].update(sampler_name="euler"))
    with pytest.raises(
        GenerateError, match=rf"^{re.escape(str(path))}: the take of shot 3A was prepared with a workflow of sha256 "
    ):
        made.generate([prepared], inputs, lambda fraction: None)


# -- the test server answers as ComfyUI does -----------------------------------------------------


def test_the_server_speaks_comfyui(comfy: ComfyServer, inputs: MemoryInputs, passes: dict[str, str]) -> None:
    with httpx.Client(base_url=comfy.url) as http:
        no_file = http.post("/upload/image", data={"type": "input"})
        assert (no_file.status_code, no_file.content) == (400, b"")
        assert http.get("/history/nope").json() == {}
        assert http.get("/view", params={"filename": "nope.png", "type": "output"}).status_code == 404
        garbage = http.post("/prompt", content=b"not json")
        assert garbage.status_code == 500 and garbage.headers["content-type"].startswith("text/plain")
        assert http.post("/prompt", json={}).json()["error"]["type"] == "no_prompt"

        name = http.post("/upload/image", files={"image": ("depth.png", inputs.read(passes[DEPTH]))}).json()["name"]
        graph = {
            "1": {"class_type": "LoadImage", "inputs": {"image": name}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "check"}},
        }
        with connect(f"ws://127.0.0.1:{comfy.port}/ws?clientId=tester") as ws:
            first = json.loads(ws.recv(timeout=5))
            prompt_id = http.post("/prompt", json={"prompt": graph, "client_id": "tester"}).json()["prompt_id"]
            seen = []
            while not seen or seen[-1] != ("executing", None):
                message = json.loads(ws.recv(timeout=5))
                if message["data"].get("prompt_id") == prompt_id and message["type"] != "progress_state":
                    seen.append((message["type"], message["data"].get("node")))
        assert first["type"] == "status" and first["data"]["sid"] == "tester"
        assert seen == [
            ("execution_start", None), ("execution_cached", None), ("executing", "1"), ("executing", "2"),
            ("executed", "2"), ("execution_success", None), ("executing", None),
        ]  # fmt: skip
        saved = http.get(f"/history/{prompt_id}").json()[prompt_id]["outputs"]["2"]["images"][0]
        assert saved == {"filename": "check_00001_.png", "subfolder": "", "type": "output"}
        # LoadImage clips a 16-bit pass to white, as ComfyUI's does: why the backend narrows depth.
        assert (pixels(http.get("/view", params=saved).content)[:, :-1] == 255).all()
