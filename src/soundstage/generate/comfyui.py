"""The ``comfyui`` backend: takes made by a ComfyUI server from a workflow template.

The workflow is the model here. It is a JSON file in ComfyUI's API format (the editor's
"Export (API)"): ``{"<node id>": {"class_type": ..., "inputs": {...}, "_meta": {"title": ...}}}``.
Checkpoints, ControlNets, LoRAs and the sampler are the template's business; Soundstage only
writes the recipe's values into the nodes named for them, and records the template's sha256 as
the recipe's ``weights_sha256``, so a take names exactly the graph that made it. Takes that
move come from video workflows, in ``comfyui_video.py``, built on this one.

Named inputs. A node is named by its title (``_meta.title``): one name, or several separated
by commas, e.g. ``soundstage:seed, soundstage:steps, soundstage:guidance`` on a KSampler. The
value goes into the first of the listed inputs that the node holds as a plain value (an input
wired to another node stays wired):

========================= ====================================== ===========================
name                      value                                  input written
========================= ====================================== ===========================
soundstage:prompt         the prompt (required)                  ``text``, ``value``
soundstage:negative       the negative prompt                    ``text``, ``value``
soundstage:seed           the seed (required: without it every   ``seed``, ``noise_seed``,
                          take of a shot is the same picture)    ``value``
soundstage:steps          sampling steps                         ``steps``, ``value``
soundstage:guidance       guidance scale                         ``cfg``, ``guidance``, ``value``
soundstage:strength       img2img strength; 1.0 for text-to-     ``denoise``, ``strength``,
                          image (1 ignores the storyboard)       ``value``
soundstage:width, height  the frame size                         ``width`` / ``height``, ``value``
soundstage:<role>         the conditioning image of that role:   ``image`` (LoadImage)
                          storyboard, depth, lineart, ids,
                          reference:<NAME>[:n], style:<n>
soundstage:output         the node whose first image is the      (read, not written)
                          take; default: the only SaveImage
========================= ====================================== ===========================

Steps, guidance and strength need their node when the recipe sets them (an artist's choice is
never dropped silently); ``prepare`` takes the template's own steps and guidance as defaults.
Every image the template names must be in the recipe; images the recipe carries that the
template does not name are not used (the recorded workflow says which were). An unknown
``soundstage:`` name is an error, because a typo would drop a value without a word.

The conversation with the server follows ComfyUI's own client: upload the images
(``POST /upload/image``, named ``soundstage-<sha256>.png`` so uploading again is harmless),
open the websocket ``/ws?clientId=...`` before queueing so no message is missed, queue the graph
(``POST /prompt``), follow the prompt's messages until ``executing`` with ``node: null``, then
read ``/history/<prompt_id>`` and fetch the output image from ``/view``.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import time
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import httpx
import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, field_validator
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from soundstage import __version__
from soundstage.errors import ConfigError, GenerateError, TransientGenerateError
from soundstage.generate import clips
from soundstage.generate.backend import (
    DEPTH,
    IDS,
    LINEART,
    REFERENCE_PREFIX,
    STORYBOARD,
    STYLE_PREFIX,
    BackendProgress,
    Inputs,
    Recipe,
)

PREFIX = "soundstage:"
OUTPUT = "output"
# Name -> the inputs that can take its value, in order of preference.
SCALAR_INPUTS: dict[str, tuple[str, ...]] = {
    "prompt": ("text", "value"),
    "negative": ("text", "value"),
    "seed": ("seed", "noise_seed", "value"),
    "steps": ("steps", "value"),
    "guidance": ("cfg", "guidance", "value"),
    "strength": ("denoise", "strength", "value"),
    "width": ("width", "value"),
    "height": ("height", "value"),
}
IMAGE_INPUTS = ("image",)
REQUIRED = ("prompt", "seed")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CONTENT_TYPES = {".png": "image/png", ".mp4": "video/mp4", ".mkv": "video/x-matroska"}
# Preview frames on the websocket can be a few MiB; the library's default cap is 1 MiB.
MAX_MESSAGE_BYTES = 64 * 2**20


class ComfyUISettings(BaseModel):
    """``[generate.comfyui]`` in soundstage.toml."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field("http://127.0.0.1:8188", description="the ComfyUI server")
    workflow: Path | None = Field(None, description="workflow template in API format, with soundstage: titles")
    # For one take, from queueing to the last message; the prompt is cancelled when it runs out.
    timeout_s: float = Field(600.0, gt=0)
    # ComfyUI keeps one websocket per client id, so two workers must not share one; unset, each
    # backend makes its own.
    client_id: str | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url.rstrip("/")


def _is_role(name: str) -> bool:
    if name in (STORYBOARD, DEPTH, LINEART, IDS):
        return True
    return any(name.startswith(p) and len(name) > len(p) for p in (REFERENCE_PREFIX, STYLE_PREFIX))


@dataclass(frozen=True)
class Workflow:
    """A workflow template read from disk, with its named nodes found and checked."""

    path: Path
    sha256: str
    graph: dict[str, dict[str, Any]]
    named: dict[str, list[str]]  # name without the prefix -> node ids, in file order
    output: str  # the node whose first image is the take
    # What a template may name, which inputs take the values, and which nodes can make the
    # take; a video workflow (comfyui_video.py) adds to them.
    SCALARS: ClassVar[dict[str, tuple[str, ...]]] = SCALAR_INPUTS
    MEDIA_INPUTS: ClassVar[tuple[str, ...]] = IMAGE_INPUTS
    OUTPUT_CLASSES: ClassVar[tuple[str, ...]] = ("SaveImage",)
    OUTPUT_KIND: ClassVar[str] = "a PNG"

    @classmethod
    def knows(cls, name: str) -> bool:
        """Whether ``name`` (without the prefix) is one a template may use."""
        return name in cls.SCALARS or name == OUTPUT or _is_role(name)

    @classmethod
    def input_for(cls, path: Path, node_id: str, node: dict[str, Any], name: str) -> str:
        """The input of a named node that takes the name's value."""
        candidates = cls.SCALARS.get(name, cls.MEDIA_INPUTS)
        for key in candidates:
            # A list is a link [node id, slot]: the template wired it, so it is not ours to fill.
            if key in node["inputs"] and not isinstance(node["inputs"][key], list):
                return key
        raise GenerateError(
            f"{path}: node {node_id} ({node['class_type']}) is titled {PREFIX}{name} "
            f"but has no {' or '.join(candidates)} input to write"
        )

    @staticmethod
    def is_output(content: bytes) -> bool:
        """Whether a file the output node made is a take of this kind (a PNG)."""
        return content.startswith(PNG_SIGNATURE)

    @classmethod
    def load(cls, path: Path) -> Workflow:
        """Read and check a template; a one-line GenerateError naming the file when it is wrong."""
        try:
            data = path.read_bytes()
        except OSError as error:
            raise GenerateError(f"{path}: cannot read the workflow template ({error.strerror})") from None
        try:
            graph = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise GenerateError(f"{path}: the workflow template is not JSON ({error})") from None
        if isinstance(graph, dict) and "nodes" in graph and "links" in graph:
            raise GenerateError(f"{path}: this is ComfyUI's editor format; save the workflow with Export (API)")
        if not isinstance(graph, dict) or not graph or not all(_is_node(node) for node in graph.values()):
            raise GenerateError(f"{path}: not a ComfyUI workflow in API format (node id -> class_type and inputs)")
        named: dict[str, list[str]] = {}
        for node_id, node in graph.items():
            for name in _names(node):
                if not cls.knows(name):
                    raise GenerateError(f"{path}: node {node_id} has the unknown name {PREFIX}{name}")
                if name != OUTPUT:
                    cls.input_for(path, node_id, node, name)  # fails now, not at the first take
                named.setdefault(name, []).append(node_id)
        output = _output_node(path, graph, named, cls.OUTPUT_CLASSES)
        return cls(path, hashlib.sha256(data).hexdigest(), graph, named, output)

    def check(self, recipe: Recipe) -> None:
        """Fail when the recipe and the template do not fit (see the module docstring)."""
        needed = [
            *REQUIRED,
            *(["steps"] if recipe.steps else []),
            *(["guidance"] if recipe.guidance else []),
            *(["strength"] if recipe.strength is not None else []),
        ]
        missing = [PREFIX + name for name in needed if name not in self.named]
        if missing:
            raise GenerateError(
                f"{self.path}: no node titled {', '.join(missing)}, which the take of shot {recipe.shot} needs"
            )
        absent = [PREFIX + name for name in self.named if _is_role(name) and name not in recipe.conditioning]
        if absent:
            raise GenerateError(
                f"{self.path}: the workflow loads {', '.join(absent)} but shot {recipe.shot} has no such image"
            )

    def default(self, name: str) -> Any:
        """The template's own value for a name (of its first node), or None when unnamed."""
        if name not in self.named:
            return None
        node_id = self.named[name][0]
        node = self.graph[node_id]
        return node["inputs"][self.input_for(self.path, node_id, node, name)]

    def values(self, recipe: Recipe) -> dict[str, Any]:
        """The recipe's value for each scalar name."""
        return {
            "prompt": recipe.prompt,
            "negative": recipe.negative_prompt,
            "seed": recipe.seed,
            "steps": recipe.steps,
            "guidance": recipe.guidance,
            "strength": 1.0 if recipe.strength is None else recipe.strength,
            "width": recipe.width,
            "height": recipe.height,
        }

    def fill(self, recipe: Recipe, images: dict[str, str]) -> dict[str, Any]:
        """The graph to queue: the template with the recipe's values and the uploaded images
        (role -> the name LoadImage reads) written into the named nodes."""
        values = {**self.values(recipe), **images}
        graph = copy.deepcopy(self.graph)
        for name, node_ids in self.named.items():
            if name == OUTPUT:
                continue
            for node_id in node_ids:
                node = graph[node_id]
                node["inputs"][self.input_for(self.path, node_id, node, name)] = values[name]
        return graph


def _is_node(node: object) -> bool:
    return isinstance(node, dict) and isinstance(node.get("class_type"), str) and isinstance(node.get("inputs"), dict)


def _names(node: dict[str, Any]) -> list[str]:
    meta = node.get("_meta")
    title = meta.get("title", "") if isinstance(meta, dict) else ""
    parts = (part.strip() for part in str(title).split(","))
    return [part[len(PREFIX) :] for part in parts if part.startswith(PREFIX)]


def _output_node(
    path: Path, graph: dict[str, dict[str, Any]], named: dict[str, list[str]], classes: tuple[str, ...]
) -> str:
    candidates = named.get(OUTPUT) or [node_id for node_id, node in graph.items() if node["class_type"] in classes]
    if len(candidates) != 1:
        count = "no" if not candidates else f"{len(candidates)}"
        raise GenerateError(
            f"{path}: {count} output nodes ({', '.join(candidates) or 'no ' + ' or '.join(classes)}); "
            f"title the one that makes the take {PREFIX}{OUTPUT}"
        )
    return candidates[0]


def loadable_png(png: bytes) -> bytes:
    """The image as ComfyUI's LoadImage can read it: 16-bit grey (the depth pass) becomes 8-bit
    grey, because LoadImage converts it with Pillow, which clips every value above 255 to white;
    anything else is passed unchanged."""
    with Image.open(io.BytesIO(png)) as image:
        if image.mode not in ("I;16", "I;16B", "I;16L", "I"):
            return png
        wide = np.asarray(image, dtype=np.float64)
    grey = np.clip(np.rint(wide / 257.0), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(grey).save(out, format="PNG", compress_level=1)
    return out.getvalue()


class ComfyUIBackend:
    """Takes made by a ComfyUI server running the configured workflow template."""

    name: ClassVar[str] = "comfyui"
    version: ClassVar[str] = __version__
    workflow_kind: ClassVar[type[Workflow]] = Workflow

    def __init__(self, settings: ComfyUISettings) -> None:
        self.settings = settings
        self.client_id = settings.client_id or uuid.uuid4().hex
        self._server_version: str | None = None
        self._known_workflows: set[str] = set()  # sha256 of templates whose node classes the server has

    def workflow(self) -> Workflow:
        """The configured template, read now (it may have been edited since the last take)."""
        if self.settings.workflow is None:
            raise ConfigError("[generate.comfyui] workflow is not set: name a workflow template in API format")
        return self.workflow_kind.load(self.settings.workflow)

    def prepare(self, recipe: Recipe) -> Recipe:
        """Fill the workflow's name and sha256, the server's versions, and steps and guidance from
        the template where the recipe leaves them at 0; fails when recipe and template do not fit."""
        if recipe.moves and self.workflow_kind is Workflow:
            raise GenerateError(
                f"shot {recipe.shot}: the comfyui backend makes stills; a take of {recipe.frames} frames "
                "needs a video workflow (the comfyui_video backend)"
            )
        workflow = self.workflow()
        workflow.check(recipe)
        if self._server_version is None or workflow.sha256 not in self._known_workflows:
            with _Connection(self.settings, self.client_id, workflow) as server:
                self._server_version = server.versions()
                # Refused now, at queue time, rather than by every take of the shot later.
                unknown = server.unknown_classes(sorted({node["class_type"] for node in workflow.graph.values()}))
                if not unknown:
                    self._inspect(server, workflow)
            if unknown:
                node_id, class_type = next(
                    (node_id, node["class_type"])
                    for node_id, node in workflow.graph.items()
                    if node["class_type"] in unknown
                )
                more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
                raise GenerateError(
                    f"{workflow.path}: ComfyUI at {self.settings.url} has no node class {class_type} "
                    f"(node {node_id}){more}; install the custom node that provides it or change the workflow"
                )
            self._known_workflows.add(workflow.sha256)
        self._check(recipe, workflow)
        fields = recipe.model_dump()
        fields.update(
            backend_version=f"{self.version} ({self._server_version})",
            model=workflow.path.name,
            weights_sha256=workflow.sha256,
        )
        if not recipe.steps and workflow.default("steps") is not None:
            fields["steps"] = int(workflow.default("steps"))
        if not recipe.guidance and workflow.default("guidance") is not None:
            fields["guidance"] = float(workflow.default("guidance"))
        return Recipe.model_validate(fields)

    def _inspect(self, server: _Connection, workflow: Workflow) -> None:
        """Learn what prepare needs of the server about a workflow, once per workflow file."""

    def _check(self, recipe: Recipe, workflow: Workflow) -> None:
        """Refuse a recipe the workflow cannot make, with what the server told ``_inspect``."""

    def generate(self, recipes: Sequence[Recipe], inputs: Inputs, progress: BackendProgress) -> list[bytes]:
        """Run the workflow once per recipe, in order, and return each run's output PNG.

        The prompts are queued one after the other on one websocket; ComfyUI runs one prompt
        at a time anyway, and its cache skips the nodes that recipes of a shot share.
        """
        if not recipes:
            return []
        workflow = self.workflow()
        for recipe in recipes:
            if recipe.weights_sha256 != workflow.sha256:
                raise GenerateError(
                    f"{workflow.path}: the take of shot {recipe.shot} was prepared with a workflow of sha256 "
                    f"{recipe.weights_sha256[:12] or 'none'}, the file now has {workflow.sha256[:12]}; queue it again"
                )
            workflow.check(recipe)
        takes = []
        with _Connection(self.settings, self.client_id, workflow) as server:
            server.listen()
            for index, recipe in enumerate(recipes):
                graph = workflow.fill(recipe, self._media(server, workflow, recipe, inputs))
                made = server.run(graph, lambda fraction, i=index: progress((i + fraction) / len(recipes)))
                takes.append(self._take(made, recipe, workflow))
        progress(1.0)
        return takes

    def _media(self, server: _Connection, workflow: Workflow, recipe: Recipe, inputs: Inputs) -> dict[str, str]:
        """Upload the images the workflow names; role -> the name its LoadImage reads."""
        return {
            role: server.upload(sha, inputs.read(sha))
            for role, sha in sorted(recipe.conditioning.items())
            if role in workflow.named
        }

    def _take(self, made: bytes, recipe: Recipe, workflow: Workflow) -> bytes:
        """The take from the file the output node made (a still workflow's PNG, as it is)."""
        return made


class _Connection:
    """One conversation with a ComfyUI server: HTTP for files and prompts, the websocket for
    what happens to them. Every failure leaves as a one-line GenerateError."""

    def __init__(self, settings: ComfyUISettings, client_id: str, workflow: Workflow) -> None:
        self.url, self.timeout_s, self.client_id = settings.url, settings.timeout_s, client_id
        self.workflow = workflow
        self.http = httpx.Client(base_url=self.url, timeout=self.timeout_s)
        self.socket: ClientConnection | None = None
        self.uploaded: dict[str, str] = {}
        self._open = ExitStack()

    def __enter__(self) -> _Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self._open.close()
        self.http.close()

    def versions(self) -> str:
        """ComfyUI's and PyTorch's versions, as the server reports them."""
        system = self._json(self._request("GET", "/system_stats"), "/system_stats").get("system", {})
        return f"ComfyUI {system.get('comfyui_version', 'unknown')}, PyTorch {system.get('pytorch_version', 'unknown')}"

    def unknown_classes(self, classes: list[str]) -> list[str]:
        """The node classes the server does not have (its /object_info/CLASS answers {} for those)."""
        return [name for name in classes if not self.describe(name)]

    def describe(self, class_type: str) -> dict[str, Any]:
        """The server's description of a node class (its inputs with their types and limits), {} if unknown."""
        return self._json(self._request("GET", f"/object_info/{class_type}"), "/object_info").get(class_type) or {}

    def listen(self) -> None:
        """Open the websocket; before any prompt is queued, so none of its messages is missed."""
        address = "ws" + self.url.removeprefix("http") + f"/ws?clientId={self.client_id}"
        try:
            # A short close: after a failure, unread messages can hold the server's answer to our
            # close behind them, and waiting the library's 10 s for it helps nobody.
            socket = connect(
                address, open_timeout=min(self.timeout_s, 30.0), close_timeout=1.0, max_size=MAX_MESSAGE_BYTES
            )
        except (OSError, TimeoutError) as error:
            raise TransientGenerateError(f"ComfyUI at {self.url} is not reachable ({error})") from None
        except InvalidHandshake as error:
            # A server that is starting, or a proxy before one that is down, answers like this.
            raise TransientGenerateError(f"ComfyUI at {self.url} refused the websocket /ws ({error})") from None
        self.socket = self._open.enter_context(socket)

    def upload(self, sha256: str, png: bytes) -> str:
        """Upload a conditioning image (or clip) once; the name the workflow's LoadImage (or
        LoadVideo) reads it by. ComfyUI takes clips through the same route."""
        if sha256 not in self.uploaded:
            suffix = clips.suffix_for(png)
            name = f"soundstage-{sha256}{suffix}"
            content = loadable_png(png) if suffix == ".png" else png
            files = {"image": (name, content, _CONTENT_TYPES[suffix])}
            response = self._request("POST", "/upload/image", files=files, data={"type": "input"})
            if response.status_code != 200:
                raise GenerateError(f"ComfyUI at {self.url} refused the upload of {name} (HTTP {response.status_code})")
            # ComfyUI answers with the name it stored, which differs when a different file had ours.
            stored = self._json(response, "/upload/image")
            subfolder = stored.get("subfolder") or ""
            self.uploaded[sha256] = f"{subfolder}/{stored['name']}" if subfolder else stored["name"]
        return self.uploaded[sha256]

    def run(self, graph: dict[str, Any], progress: BackendProgress) -> bytes:
        """Queue one graph, follow it to the end and return its output image."""
        response = self._request("POST", "/prompt", json={"prompt": graph, "client_id": self.client_id})
        if response.status_code == 400:
            raise GenerateError(self._refusal(response))
        accepted = self._json(response, "/prompt")
        # ComfyUI runs the outputs that passed and only lists the others' errors.
        for node_error in (accepted.get("node_errors") or {}).values():
            if self.workflow.output in node_error.get("dependent_outputs", []):
                raise GenerateError(self._refusal(response))
        prompt_id = accepted["prompt_id"]
        self._follow(prompt_id, len(graph), progress)
        return self._output(prompt_id)

    def _follow(self, prompt_id: str, nodes: int, progress: BackendProgress) -> None:
        """Read the websocket until the prompt is done.

        Done is ``executing`` with ``node: null``, not ``execution_success``: ComfyUI sends the
        latter before it writes the prompt's history, the former after.
        """
        assert self.socket is not None, "listen() first"
        deadline = time.monotonic() + self.timeout_s
        finished: set[str] = set()
        current, within, reported = None, 0.0, 0.0
        while True:
            try:
                frame = self.socket.recv(timeout=max(deadline - time.monotonic(), 0.0))
            except TimeoutError:
                self._cancel(prompt_id)
                raise TransientGenerateError(
                    f"ComfyUI at {self.url} did not finish {self.workflow.path.name} (prompt {prompt_id}) "
                    f"within {self.timeout_s:g} s; the prompt was cancelled"
                ) from None
            except ConnectionClosed:
                raise TransientGenerateError(
                    f"ComfyUI at {self.url} closed the websocket while running prompt {prompt_id}"
                ) from None
            if isinstance(frame, bytes):
                continue  # preview images
            message = json.loads(frame)
            kind, data = message.get("type"), message.get("data") or {}
            if data.get("prompt_id") != prompt_id:
                continue  # queue status, other clients' prompts
            if kind == "execution_error":
                raise GenerateError(self._failure(data))
            if kind == "execution_interrupted":
                raise TransientGenerateError(
                    f"ComfyUI at {self.url} interrupted prompt {prompt_id} at node {data.get('node_id')} "
                    f"({data.get('node_type')})"
                )
            if kind == "execution_cached":
                finished.update(data.get("nodes", []))
            elif kind == "executing":
                if current is not None:
                    finished.add(current)
                current, within = data.get("node"), 0.0
                if current is None:
                    return
            elif kind == "progress" and data.get("max"):
                within = min(data.get("value", 0) / data["max"], 1.0)
            elif kind == "executed":
                finished.add(data.get("node"))
            # Nodes that run several times (loops, subgraphs) must not push progress backwards.
            reported = max(reported, min((len(finished) + within) / nodes, 1.0))
            progress(reported)

    def _output(self, prompt_id: str) -> bytes:
        """The first image of the output node, as the prompt's history lists it."""
        history = self._json(self._request("GET", f"/history/{prompt_id}"), "/history").get(prompt_id)
        if not history:
            # A server restarted since it accepted the prompt has forgotten it.
            raise TransientGenerateError(f"ComfyUI at {self.url} has no history for prompt {prompt_id}")
        status = history.get("status") or {}
        if status.get("status_str") == "error":
            for event, data in status.get("messages", []):
                if event == "execution_error":
                    raise GenerateError(self._failure(data))
            raise GenerateError(f"ComfyUI at {self.url} reports that prompt {prompt_id} failed")
        node = self.workflow.output
        images = (history.get("outputs", {}).get(node) or {}).get("images") or []
        if not images:
            raise GenerateError(
                f"ComfyUI at {self.url} made no image at output node {node} "
                f"({self.workflow.graph[node]['class_type']}) of {self.workflow.path.name} (prompt {prompt_id})"
            )
        image = images[0]
        where = {
            "filename": image["filename"],
            "subfolder": image.get("subfolder", ""),
            "type": image.get("type", "output"),
        }
        response = self._request("GET", "/view", params=where)
        shown = "/".join(p for p in (where["subfolder"], where["filename"]) if p)
        if response.status_code == 404:
            raise GenerateError(f"ComfyUI at {self.url} has no file {shown} ({where['type']}) of prompt {prompt_id}")
        self._expect_ok(response, "/view")
        if not self.workflow.is_output(response.content):
            raise GenerateError(
                f"ComfyUI at {self.url} gave {shown} of prompt {prompt_id}, which is not {self.workflow.OUTPUT_KIND}"
            )
        return response.content

    def _cancel(self, prompt_id: str) -> None:
        """Take the prompt off the queue, or stop it if it runs; best effort, we are failing anyway."""
        try:
            self.http.post("/queue", json={"delete": [prompt_id]})
            self.http.post("/interrupt", json={"prompt_id": prompt_id})
        except httpx.HTTPError:
            pass

    def _failure(self, data: dict[str, Any]) -> str:
        """One line from an ``execution_error``: where it failed and the exception's first line."""
        lines = str(data.get("exception_message", "")).strip().splitlines()
        return (
            f"ComfyUI failed running {self.workflow.path.name}: node {data.get('node_id')} ({data.get('node_type')}) "
            f"raised {data.get('exception_type', 'an error')}: {lines[0] if lines else 'no message'}"
        )

    def _refusal(self, response: httpx.Response) -> str:
        """One line from a rejected prompt: the error, then the first node error with its node."""
        head = f"ComfyUI refused the workflow {self.workflow.path.name}"
        try:
            body = response.json()
        except ValueError:
            return f"{head} (HTTP {response.status_code}): {_excerpt(response.text)}"
        error, node_errors = body.get("error") or {}, body.get("node_errors") or {}
        if not isinstance(error, dict):
            error = {"message": str(error)}
        reasons = [
            (node_id, node.get("class_type"), reason)
            for node_id, node in node_errors.items()
            for reason in node.get("errors", [])
        ]
        if reasons:
            node_id, class_type, reason = reasons[0]
            line = f"{head}: {error.get('message', 'its output failed validation')}; node {node_id} ({class_type}): {reason.get('message')}"
            line += f": {reason['details']}" if reason.get("details") else ""
            return line + (f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else "")
        message = str(error.get("message", "invalid prompt"))
        return f"{head}: {message.rstrip('.')}: {error['details']}" if error.get("details") else f"{head}: {message}"

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, path, **kwargs)
        except httpx.ConnectError as error:
            raise TransientGenerateError(f"ComfyUI at {self.url} is not reachable ({error})") from None
        except httpx.TimeoutException:
            raise TransientGenerateError(
                f"ComfyUI at {self.url} did not answer {method} {path} within {self.timeout_s:g} s"
            ) from None
        except httpx.HTTPError as error:  # a reset connection, a broken transfer
            raise TransientGenerateError(f"ComfyUI at {self.url} failed on {method} {path} ({error})") from None

    def _expect_ok(self, response: httpx.Response, path: str) -> None:
        if response.status_code != 200:
            # 5xx may pass (a proxy before a restarting server, an overloaded one); 4xx will not.
            kind = TransientGenerateError if response.status_code >= 500 and path != "/prompt" else GenerateError
            raise kind(
                f"ComfyUI at {self.url} answered HTTP {response.status_code} to {response.request.method} {path}: "
                f"{_excerpt(response.text)}"
            )

    def _json(self, response: httpx.Response, path: str) -> dict[str, Any]:
        self._expect_ok(response, path)
        try:
            body = response.json()
        except ValueError:
            raise GenerateError(f"ComfyUI at {self.url} answered {path} with something that is not JSON") from None
        if not isinstance(body, dict):
            raise GenerateError(f"ComfyUI at {self.url} answered {path} with JSON that is not an object")
        return body


def _excerpt(text: str, limit: int = 200) -> str:
    """The start of a server's text on one line, enough to recognise it."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."
