"""A small ComfyUI-shaped server for the comfyui backend's tests.

It answers the routes and websocket messages a real ComfyUI 0.3.64 answers, with the same
shapes and error bodies (measured in ../shared/peers/comfyui.md and read from ComfyUI's
server.py and execution.py), on aiohttp as ComfyUI does, in a thread of its own.

It "runs" graphs of the node classes Soundstage's templates use, each by a cheap deterministic
stand-in: the checkpoint and ControlNet loaders return names, the VAE is the identity, and the
sampler paints a colour drawn from its seed, steps, guidance and prompts, shaded by the
ControlNet images it was given and blended with its init image by ``denoise``. Video graphs
(ComfyUI's core video nodes and Wan VACE's, with their real input names and limits) run the
same way frame by frame: ``WanVaceToVideo`` makes ((length - 1) // 4) * 4 + 1 frames, each
shaded by its control frame and tinted by the reference image, and ``SaveVideo`` writes an
H.264 MP4 with PyAV as ComfyUI's own ``VideoFromComponents.save_to`` does. So a test can see
in the pixels that each input reached the graph. Like ComfyUI it validates graphs before
queueing them, caches node outputs between prompts, and loads images the way LoadImage does
(16-bit grey is clipped to white). ``faults`` makes it fail the ways a real server fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import os
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import av
import numpy as np
from aiohttp import WSMsgType, web
from PIL import Image, ImageOps, PngImagePlugin

# Faults a test can switch on, as a real server shows them.
EXECUTION_ERROR = "execution_error"  # the sampler raises: execution_error on the websocket, history status error
SILENT_ERROR = "silent_error"  # the same, but the websocket message is lost (only the history says so)
LOST_OUTPUTS = "lost_outputs"  # the prompt succeeds but its history lists no outputs
LOST_FILES = "lost_files"  # /view answers 404 for every file
SLOW = "slow"  # each sampler step takes 50 ms
CRASH = "crash"  # POST /prompt raises: aiohttp's 500 with a plain-text body

SAMPLERS = ["euler", "euler_ancestral", "heun", "dpm_2", "dpmpp_2m", "dpmpp_2m_sde", "dpmpp_sde", "ddim", "uni_pc"]
SCHEDULERS = ["normal", "karras", "exponential", "sgm_uniform", "simple", "ddim_uniform", "beta"]
UPSCALE_METHODS = ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"]
MAX_RESOLUTION = 16384


def _int(low: int, high: int) -> tuple[str, dict[str, Any]]:
    return ("INT", {"min": low, "max": high})


def _float(low: float, high: float) -> tuple[str, dict[str, Any]]:
    return ("FLOAT", {"min": low, "max": high})


def _link(kind: str) -> tuple[str, dict[str, Any]]:
    return ("LINK", {"type": kind})


def _combo(options: list[str] | str) -> tuple[str, dict[str, Any]]:
    """A choice from a list, or from the server's model folder of that name."""
    return ("COMBO", {"options": options})


@dataclass(frozen=True)
class NodeClass:
    """What validation and execution need to know of a node class."""

    inputs: dict[str, tuple[str, dict[str, Any]]]
    # (server, node id, prompt id, client id, graph, **inputs) -> an outputs tuple, or for an
    # output node {"ui": what it shows}; a coroutine of either for nodes that report progress.
    run: Callable[..., Any]
    output: bool = False  # an OUTPUT_NODE: it makes a prompt worth running
    optional: frozenset[str] = frozenset()


class NodeFailure(Exception):
    """A node raised while running (the fault EXECUTION_ERROR)."""


class Interrupted(Exception):
    """POST /interrupt stopped the running prompt."""


@dataclass
class ComfyServer:
    """The server; ``start()`` it (or use it as a context manager) and read ``url``."""

    models: dict[str, list[str]] = field(
        default_factory=lambda: {
            "checkpoints": ["v1-5-pruned-emaonly.safetensors"],
            "controlnet": ["control_v11f1p_sd15_depth.pth", "control_v11p_sd15_lineart.pth"],
            "diffusion_models": ["wan2.1_vace_1.3B_fp16.safetensors"],
            "text_encoders": ["umt5_xxl_fp8_e4m3fn_scaled.safetensors"],
            "vae": ["wan_2.1_vae.safetensors"],
        }
    )
    faults: set[str] = field(default_factory=set)
    files: dict[tuple[str, str, str], bytes] = field(default_factory=dict)  # (type, subfolder, name) -> bytes
    history: dict[str, dict[str, Any]] = field(default_factory=dict)
    interrupted: list[str] = field(default_factory=list)  # prompt ids POST /interrupt stopped
    deleted: list[str] = field(default_factory=list)  # prompt ids POST /queue took off the queue
    port: int = 0

    def __post_init__(self) -> None:
        self._sockets: dict[str, web.WebSocketResponse] = {}
        self._cache: dict[str, tuple[Any, dict[str, Any] | None]] = {}  # node signature -> outputs, ui
        self._number = 0
        self._running: str | None = None
        self._interrupt = False
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def inputs(self) -> dict[str, bytes]:
        """Uploaded images by the name LoadImage reads them by."""
        return {
            "/".join(filter(None, (sub, name))): data
            for (kind, sub, name), data in self.files.items()
            if kind == "input"
        }

    # -- running in a thread -------------------------------------------------------------

    def start(self) -> ComfyServer:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), name="comfy-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the test ComfyUI server did not start")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(10)

    def __enter__(self) -> ComfyServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._open())
        ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._close())
        self._loop.close()

    async def _open(self) -> None:
        app = web.Application(client_max_size=64 * 2**20)
        app.add_routes(
            [
                web.get("/ws", self._websocket),
                web.post("/upload/image", self._upload),
                web.post("/prompt", self._prompt),
                web.get("/history/{prompt_id}", self._history),
                web.get("/view", self._view),
                web.get("/system_stats", self._system_stats),
                web.get("/object_info/{class_type}", self._object_info),
                web.post("/queue", self._queue_edit),
                web.post("/interrupt", self._interrupt_route),
            ]
        )
        self._queue: asyncio.Queue[tuple[int, str, dict[str, Any], str | None, list[str]]] = asyncio.Queue()
        self._worker = asyncio.ensure_future(self._work())
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        # Port 0 picks a free one; a test restarting "the same server" passes the old port.
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _close(self) -> None:
        self._worker.cancel()
        for socket in list(self._sockets.values()):
            await socket.close()
        await self._runner.cleanup()

    # -- routes ------------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        # A failed test may leave its client unanswering; closing must not hold up the teardown.
        socket = web.WebSocketResponse(timeout=1.0)
        await socket.prepare(request)
        sid = request.rel_url.query.get("clientId") or uuid.uuid4().hex
        self._sockets[sid] = socket
        try:
            await self._send("status", {"status": self._queue_info(), "sid": sid}, sid)
            async for message in socket:
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            if self._sockets.get(sid) is socket:
                del self._sockets[sid]
        return socket

    async def _upload(self, request: web.Request) -> web.Response:
        post = await request.post()
        image = post.get("image")
        if not isinstance(image, web.FileField) or not image.filename:
            return web.Response(status=400)
        data = image.file.read()
        subfolder = str(post.get("subfolder", ""))
        name = image.filename
        stem, suffix = os.path.splitext(name)
        number = 1
        # ComfyUI keeps a file of the same name and content, and renames a different one.
        while self.files.get(("input", subfolder, name), data) != data:
            name = f"{stem} ({number}){suffix}"
            number += 1
        self.files["input", subfolder, name] = data
        return web.json_response({"name": name, "subfolder": subfolder, "type": "input"})

    async def _prompt(self, request: web.Request) -> web.Response:
        if CRASH in self.faults:
            raise RuntimeError("the test server crashed on purpose")
        body = await request.json()  # not JSON: aiohttp answers 500 in plain text, as ComfyUI does
        if "prompt" not in body:
            error = _error("no_prompt", "No prompt provided", "No prompt provided")
            return web.json_response({"error": error, "node_errors": {}}, status=400)
        graph = body["prompt"]
        prompt_id = str(body.get("prompt_id", uuid.uuid4()))
        error, outputs, node_errors = self._validate(graph)
        if error is not None:
            return web.json_response({"error": error, "node_errors": node_errors}, status=400)
        number = self._number
        self._number += 1
        await self._queue.put((number, prompt_id, graph, body.get("client_id"), outputs))
        await self._send("status", {"status": self._queue_info()})
        return web.json_response({"prompt_id": prompt_id, "number": number, "node_errors": node_errors})

    async def _history(self, request: web.Request) -> web.Response:
        prompt_id = request.match_info["prompt_id"]
        return web.json_response({prompt_id: self.history[prompt_id]} if prompt_id in self.history else {})

    async def _view(self, request: web.Request) -> web.Response:
        query = request.rel_url.query
        name = query.get("filename", "")
        if not name or name.startswith("/") or ".." in name:
            return web.Response(status=400)
        key = (query.get("type", "output"), query.get("subfolder", ""), name)
        if LOST_FILES in self.faults or key not in self.files:
            return web.Response(status=404)
        kind = {".mp4": "video/mp4", ".webm": "video/webm"}.get(os.path.splitext(name)[1], "image/png")
        return web.Response(
            body=self.files[key], content_type=kind, headers={"Content-Disposition": f'filename="{name}"'}
        )

    async def _system_stats(self, request: web.Request) -> web.Response:
        system = {"os": os.name, "comfyui_version": "0.3.64", "pytorch_version": "test stand-in", "argv": ["main.py"]}
        return web.json_response({"system": system, "devices": [{"name": "cpu", "type": "cpu", "index": None}]})

    async def _object_info(self, request: web.Request) -> web.Response:
        # ComfyUI answers 200 {} for a class it does not have, and the class's description otherwise.
        name = request.match_info["class_type"]
        if name not in NODES:
            return web.json_response({})
        spec = NODES[name]
        required = {key: [kind, options] for key, (kind, options) in spec.inputs.items() if key not in spec.optional}
        optional = {key: [kind, options] for key, (kind, options) in spec.inputs.items() if key in spec.optional}
        described = {"input": {"required": required, "optional": optional}, "name": name, "output_node": spec.output}
        return web.json_response({name: described})

    async def _queue_edit(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.deleted += [str(p) for p in body.get("delete", [])]
        return web.Response(status=200)

    async def _interrupt_route(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = {}
        prompt_id = body.get("prompt_id")
        if self._running is not None and prompt_id in (None, self._running):
            self._interrupt = True
        return web.Response(status=200)

    # -- validation, as execution.validate_prompt does it --------------------------------------

    def _validate(self, graph: Any) -> tuple[dict[str, Any] | None, list[str], dict[str, Any]]:
        """(error or None, outputs to run, node errors)."""
        for node_id, node in graph.items():
            if "class_type" not in node:
                message = "Cannot execute because a node is missing the class_type property."
                return _error("invalid_prompt", message, f"Node ID '#{node_id}'"), [], {}
            if node["class_type"] not in NODES:
                message = f"Cannot execute because node {node['class_type']} does not exist."
                return _error("invalid_prompt", message, f"Node ID '#{node_id}'"), [], {}
        outputs = [node_id for node_id, node in graph.items() if NODES[node["class_type"]].output]
        if not outputs:
            return _error("prompt_no_outputs", "Prompt has no outputs", ""), [], {}
        good, node_errors, reasons_all = [], {}, []
        for output in outputs:
            reasons: dict[str, list[dict[str, Any]]] = {}
            self._validate_node(graph, output, reasons, set())
            if not reasons:
                good.append(output)
            for node_id, reasons_here in reasons.items():
                entry = node_errors.setdefault(
                    node_id,
                    {"errors": reasons_here, "dependent_outputs": [], "class_type": graph[node_id]["class_type"]},
                )
                entry["dependent_outputs"].append(output)
                reasons_all += reasons_here
        if not good:
            details = "\n".join(f"{r['message']}: {r['details']}" for r in reasons_all)
            return (
                _error("prompt_outputs_failed_validation", "Prompt outputs failed validation", details),
                [],
                node_errors,
            )
        return None, good, node_errors

    def _validate_node(self, graph: dict[str, Any], node_id: str, reasons: dict[str, list], seen: set[str]) -> None:
        if node_id in seen:
            return
        seen.add(node_id)
        node = graph[node_id]
        spec = NODES[node["class_type"]]
        found = []
        for name, (kind, options) in spec.inputs.items():
            if name not in node["inputs"]:
                if name not in spec.optional:
                    found.append(_error("required_input_missing", "Required input is missing", name, input_name=name))
                continue
            value = node["inputs"][name]
            if kind == "LINK" or isinstance(value, list):
                if not (isinstance(value, list) and len(value) == 2 and str(value[0]) in graph):
                    message = "Bad linked input, must be a length-2 list of [node_id, slot_index]"
                    found.append(_error("bad_linked_input", message, f"{name}, {value}", input_name=name))
                else:
                    self._validate_node(graph, str(value[0]), reasons, seen)
                continue
            found += self._check_value(node["class_type"], name, kind, options, value)
        if found:
            reasons[node_id] = found

    def _check_value(self, class_type: str, name: str, kind: str, options: dict[str, Any], value: Any) -> list:
        if kind in ("INT", "FLOAT"):
            try:
                value = int(value) if kind == "INT" else float(value)
            except (TypeError, ValueError) as error:
                message = f"Failed to convert an input value to a {kind} value"
                return [_error("invalid_input_type", message, f"{name}, {value}, {error}", input_name=name)]
            if value < options["min"]:
                message = f"Value {value} smaller than min of {options['min']}"
                return [_error("value_smaller_than_min", message, name, input_name=name)]
            if value > options["max"]:
                message = f"Value {value} bigger than max of {options['max']}"
                return [_error("value_bigger_than_max", message, name, input_name=name)]
        if kind == "COMBO":
            choices = self.models[options["options"]] if isinstance(options["options"], str) else options["options"]
            if value not in choices:
                message = "Value not in list"
                return [_error("value_not_in_list", message, f"{name}: '{value}' not in {choices}", input_name=name)]
        if class_type == "LoadImage" and name == "image" and value not in self.inputs():
            message = "Custom validation failed for node"
            return [
                _error("custom_validation_failed", message, f"image - Invalid image file: {value}", input_name=name)
            ]
        if class_type == "LoadVideo" and name == "file" and value not in self.inputs():
            message = "Custom validation failed for node"
            return [_error("custom_validation_failed", message, f"file - Invalid video file: {value}", input_name=name)]
        return []

    # -- execution ---------------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            number, prompt_id, graph, client_id, outputs = await self._queue.get()
            if prompt_id in self.deleted:
                continue
            self._running, self._interrupt = prompt_id, False
            try:
                await self._execute(number, prompt_id, graph, client_id, outputs)
            finally:
                self._running = None
            await self._send("status", {"status": self._queue_info()})

    async def _execute(
        self, number: int, prompt_id: str, graph: dict, client_id: str | None, outputs: list[str]
    ) -> None:
        messages: list[list[Any]] = []

        async def note(event: str, data: dict[str, Any], broadcast: bool = False, lost: bool = False) -> None:
            data = {**data, "timestamp": int(time.time() * 1000)}
            messages.append([event, data])
            if not lost:
                await self._send(event, data, None if broadcast else client_id)

        order = _order(graph, outputs)
        signatures = self._signatures(graph, order)
        await note("execution_start", {"prompt_id": prompt_id})
        cached = [n for n in order if signatures[n] in self._cache]
        await note("execution_cached", {"nodes": cached, "prompt_id": prompt_id})
        values: dict[str, Any] = {}
        shown: dict[str, dict[str, Any]] = {}
        success = False
        for node_id in order:
            node = graph[node_id]
            if node_id in cached:
                values[node_id], ui = self._cache[signatures[node_id]]
                if ui is not None:
                    shown[node_id] = ui
                    await self._executed(node_id, ui, prompt_id, client_id)
                continue
            await self._send("executing", {"node": node_id, "display_node": node_id, "prompt_id": prompt_id}, client_id)
            await self._progress_state(prompt_id, node_id, client_id)
            # As ComfyUI's get_input_data: only the inputs the class declares reach it.
            arguments = {
                name: values[str(value[0])][value[1]] if isinstance(value, list) else value
                for name, value in node["inputs"].items()
                if name in NODES[node["class_type"]].inputs
            }
            try:
                result = NODES[node["class_type"]].run(self, node_id, prompt_id, client_id, graph, **arguments)
                if asyncio.iscoroutine(result):
                    result = await result
            except NodeFailure as failure:
                error = {
                    "prompt_id": prompt_id, "node_id": node_id, "node_type": node["class_type"],
                    "executed": list(values), "exception_message": str(failure),
                    "exception_type": "torch.OutOfMemoryError", "traceback": ["  File \"execution.py\", line 496\n"],
                    "current_inputs": {}, "current_outputs": list(values),
                }  # fmt: skip
                await note("execution_error", error, lost=SILENT_ERROR in self.faults)
                break
            except Interrupted:
                self.interrupted.append(prompt_id)
                stopped = {
                    "prompt_id": prompt_id,
                    "node_id": node_id,
                    "node_type": node["class_type"],
                    "executed": list(values),
                }
                await note("execution_interrupted", stopped, broadcast=True)
                break
            outputs_here, ui = ((), result["ui"]) if isinstance(result, dict) else (result, None)
            values[node_id] = outputs_here
            self._cache[signatures[node_id]] = (outputs_here, ui)
            if ui is not None:
                shown[node_id] = ui
                await self._executed(node_id, ui, prompt_id, client_id)
        else:
            success = True
            await note("execution_success", {"prompt_id": prompt_id})
        self.history[prompt_id] = {
            "prompt": [number, prompt_id, graph, {"client_id": client_id}, outputs],
            "outputs": {} if LOST_OUTPUTS in self.faults else shown,
            "status": {"status_str": "success" if success else "error", "completed": success, "messages": messages},
            "meta": {n: {"node_id": n, "display_node": n, "parent_node": None, "real_node_id": n} for n in shown},
        }
        await self._send("executing", {"node": None, "prompt_id": prompt_id}, client_id)

    def _signatures(self, graph: dict[str, Any], order: list[str]) -> dict[str, str]:
        """Cache keys: a node's class and inputs, with links replaced by the upstream node's key
        and a loaded image by its bytes' hash (ComfyUI's IS_CHANGED for LoadImage)."""
        signatures: dict[str, str] = {}
        for node_id in order:
            node = graph[node_id]
            inputs = {
                name: ["link", signatures[str(value[0])], value[1]] if isinstance(value, list) else value
                for name, value in node["inputs"].items()
            }
            if node["class_type"] == "LoadImage":
                inputs["file"] = hashlib.sha256(self.inputs()[inputs["image"]]).hexdigest()
            if node["class_type"] == "LoadVideo":
                inputs["content"] = hashlib.sha256(self.inputs()[inputs["file"]]).hexdigest()
            text = json.dumps([node["class_type"], inputs], sort_keys=True)
            signatures[node_id] = hashlib.sha256(text.encode()).hexdigest()
        return signatures

    async def _executed(self, node_id: str, ui: dict[str, Any], prompt_id: str, client_id: str | None) -> None:
        data = {"node": node_id, "display_node": node_id, "output": ui, "prompt_id": prompt_id}
        await self._send("executed", data, client_id)

    async def _progress_state(self, prompt_id: str, node_id: str, client_id: str | None) -> None:
        state = {
            "value": 0, "max": 1, "state": "running", "node_id": node_id, "prompt_id": prompt_id,
            "display_node_id": node_id, "parent_node_id": None, "real_node_id": node_id,
        }  # fmt: skip
        await self._send("progress_state", {"prompt_id": prompt_id, "nodes": {node_id: state}}, client_id)

    async def _send(self, event: str, data: dict[str, Any], sid: str | None = None) -> None:
        targets = list(self._sockets.values()) if sid is None else [self._sockets[sid]] if sid in self._sockets else []
        for socket in targets:
            with contextlib.suppress(ConnectionError):  # the client went away; ComfyUI carries on too
                await socket.send_json({"type": event, "data": data})

    async def _send_preview(self, picture: np.ndarray, client_id: str | None) -> None:
        """A binary preview frame: event 1 (PREVIEW_IMAGE), image type 2 (PNG), then the PNG."""
        socket = self._sockets.get(client_id or "")
        if socket is not None:
            await socket.send_bytes(struct.pack(">II", 1, 2) + _png(picture[::4, ::4]))

    def _queue_info(self) -> dict[str, Any]:
        return {"exec_info": {"queue_remaining": self._queue.qsize() + (self._running is not None)}}


def _error(kind: str, message: str, details: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": extra}


def _order(graph: dict[str, Any], outputs: list[str]) -> list[str]:
    """The nodes the outputs need, each after the nodes it reads from."""
    order: list[str] = []

    def visit(node_id: str) -> None:
        if node_id in order:
            return
        for value in graph[node_id]["inputs"].values():
            if isinstance(value, list):
                visit(str(value[0]))
        order.append(node_id)

    for output in outputs:
        visit(output)
    return order


def _png(picture: np.ndarray, text: dict[str, str] | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    out = io.BytesIO()
    Image.fromarray(np.clip(np.rint(picture * 255), 0, 255).astype(np.uint8)).save(
        out, format="PNG", pnginfo=info, compress_level=4
    )
    return out.getvalue()


def _resize(picture: np.ndarray, width: int, height: int) -> np.ndarray:
    if picture.shape[:2] == (height, width):
        return picture
    image = Image.fromarray(np.clip(np.rint(picture * 255), 0, 255).astype(np.uint8))
    return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32) / 255


# -- the node stand-ins: (server, node id, prompt id, client id, graph, **inputs) -> outputs ---


def _checkpoint(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict, ckpt_name: str
) -> tuple:
    return (f"model:{ckpt_name}", f"clip:{ckpt_name}", f"vae:{ckpt_name}")


def _text_encode(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict, text: str, clip: str
) -> tuple:
    return ({"text": text, "hints": []},)


def _load_image(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict, image: str
) -> tuple:
    # As nodes.LoadImage does it: mode I is scaled, everything else converted to RGB by Pillow,
    # which clips 16-bit grey at 255.
    with Image.open(io.BytesIO(server.inputs()[image])) as opened:
        picture = ImageOps.exif_transpose(opened)
        if picture.mode == "I":
            picture = picture.point(lambda v: v * (1 / 255))
        rgb = np.asarray(picture.convert("RGB"), dtype=np.float32) / 255
    return (rgb, np.zeros((64, 64), dtype=np.float32))


def _image_scale(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict,
    image: np.ndarray, upscale_method: str, width: int, height: int, crop: str,
) -> tuple:  # fmt: skip
    if width == 0 and height == 0:
        return (image,)
    height = height or round(image.shape[0] * width / image.shape[1])
    width = width or round(image.shape[1] * height / image.shape[0])
    return (_resize(image, width, height),)


def _controlnet_loader(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict, control_net_name: str
) -> tuple:
    return (control_net_name,)


def _controlnet_apply(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict,
    positive: dict, negative: dict, control_net: str, image: np.ndarray, strength: float,
    start_percent: float, end_percent: float, vae: str | None = None,
) -> tuple:  # fmt: skip
    if strength == 0:
        return (positive, negative)
    hint = (image, float(strength))
    return ({**positive, "hints": [*positive["hints"], hint]}, {**negative, "hints": [*negative["hints"], hint]})


def _empty_latent(
    server: ComfyServer,
    node_id: str,
    prompt_id: str,
    client: str | None,
    graph: dict,
    width: int,
    height: int,
    batch_size: int,
) -> tuple:
    return ({"samples": None, "size": (width, height)},)


def _vae_encode(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict, pixels: np.ndarray, vae: str
) -> tuple:
    return ({"samples": pixels, "size": (pixels.shape[1], pixels.shape[0])},)


async def _ksampler(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict,
    model: str, seed: int, steps: int, cfg: float, sampler_name: str, scheduler: str,
    positive: dict, negative: dict, latent_image: dict, denoise: float,
) -> tuple:  # fmt: skip
    for step in range(1, steps + 1):
        if SLOW in server.faults:
            await asyncio.sleep(0.05)
        if server._interrupt:
            raise Interrupted()
        await server._send("progress", {"value": step, "max": steps, "prompt_id": prompt_id, "node": node_id}, client)
    if EXECUTION_ERROR in server.faults or SILENT_ERROR in server.faults:
        raise NodeFailure(
            "Allocation on device would exceed allowed memory. (out of memory)\nCurrently allocated: 3.2 GiB"
        )
    width, height = latent_image["size"]
    key = json.dumps([model, seed, steps, cfg, sampler_name, scheduler, positive["text"], negative["text"]])
    colour = np.frombuffer(hashlib.sha256(key.encode()).digest()[:3], dtype=np.uint8).astype(np.float32) / 255
    if "frames" in latent_image:
        return (_paint_video(colour, positive, latent_image),)
    shade = np.ones((height, width), dtype=np.float32)
    if positive["hints"]:
        weights = sum(strength for _, strength in positive["hints"])
        shade = (
            sum(strength * _resize(hint, width, height).mean(axis=2) for hint, strength in positive["hints"]) / weights
        )
    picture = colour * (0.2 + 0.8 * shade)[..., None]
    if latent_image["samples"] is not None:
        picture = denoise * picture + (1 - denoise) * _resize(latent_image["samples"], width, height)
    await server._send_preview(picture, client)
    return ({"samples": picture.astype(np.float32), "size": (width, height)},)


def _paint_video(colour: np.ndarray, positive: dict, latent: dict) -> dict:
    """A video "latent" of pixel frames: the reference frames first (as Wan VACE puts them
    ahead of the clip, for TrimVideoLatent to cut), then each frame shaded by its control frame."""
    width, height = latent["size"]
    reference = positive.get("reference")
    if reference is not None:
        colour = 0.5 * colour + 0.5 * _resize(reference, width, height).mean(axis=(0, 1))
    frames = []
    for number in range(latent["frames"]):
        shade = np.ones((height, width), dtype=np.float32)
        if positive["hints"]:
            weights = sum(strength for _, strength in positive["hints"])
            shade = sum(
                strength * _resize(video[number], width, height).mean(axis=2) for video, strength in positive["hints"]
            )
            shade = shade / weights
        frames.append(colour * (0.2 + 0.8 * shade)[..., None])
    lead = [_resize(reference, width, height)] * latent.get("trim", 0) if reference is not None else []
    return {
        "samples": np.stack([*lead, *frames]).astype(np.float32),
        "size": (width, height),
        "frames": latent["frames"],
    }


def _unet_loader(
    server: ComfyServer,
    node_id: str,
    prompt_id: str,
    client: str | None,
    graph: dict,
    unet_name: str,
    weight_dtype: str,
) -> tuple:
    return (f"model:{unet_name}",)


def _clip_loader(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict,
    clip_name: str, type: str, device: str = "default",
) -> tuple:  # fmt: skip
    return (f"clip:{clip_name}:{type}",)


def _vae_loader(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict, vae_name: str
) -> tuple:
    return (f"vae:{vae_name}",)


def _model_sampling_sd3(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict, model: str, shift: float
) -> tuple:
    return (f"{model}+shift:{shift}",)


def _load_video(server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict, file: str) -> tuple:
    return ({"file": server.inputs()[file]},)  # a VIDEO: ComfyUI's VideoFromFile, decoded when asked


def _get_video_components(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict, video: dict
) -> tuple:
    if "file" not in video:
        return (video["images"], None, float(video["fps"]))
    # As VideoFromFile.get_components does it: every frame as rgb24, the stream's average rate.
    with av.open(io.BytesIO(video["file"])) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24").astype(np.float32) / 255 for frame in container.decode(stream)]
        rate = float(stream.average_rate or 1)
    return (np.stack(frames), None, rate)


def _wan_vace_to_video(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict,
    positive: dict, negative: dict, vae: str, width: int, height: int, length: int, batch_size: int,
    strength: float, control_video: np.ndarray | None = None, control_masks: Any = None,
    reference_image: np.ndarray | None = None,
) -> tuple:  # fmt: skip
    latent_length = (length - 1) // 4 + 1
    frames = (latent_length - 1) * 4 + 1  # what the VAE decodes the latent frames to
    if control_video is None:
        control = np.full((length, height, width, 3), 0.5, dtype=np.float32)
    else:
        control = np.stack([_resize(frame, width, height) for frame in control_video[:length]])
        if len(control) < length:  # as the real node pads a short control video with grey
            control = np.concatenate([control, np.full((length - len(control), height, width, 3), 0.5, np.float32)])
    hint = (control, float(strength))
    reference = (
        None if reference_image is None else (reference_image[0] if reference_image.ndim == 4 else reference_image)
    )
    trim = 1 if reference is not None else 0
    conditioned = [{**c, "hints": [*c["hints"], hint], "reference": reference} for c in (positive, negative)]
    latent = {"samples": None, "size": (width, height), "frames": frames, "trim": trim}
    return (*conditioned, latent, trim)


def _trim_video_latent(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict, samples: dict, trim_amount: int
) -> tuple:
    return ({**samples, "samples": samples["samples"][trim_amount:]},)


def _create_video(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict,
    images: np.ndarray, fps: float, audio: Any = None,
) -> tuple:  # fmt: skip
    return ({"images": images, "fps": fps},)


def _save_video(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict,
    video: dict, filename_prefix: str, format: str, codec: str,
) -> dict:  # fmt: skip
    if "file" in video:
        data = video["file"]
    else:
        # As VideoFromComponents.save_to does it: H.264, yuv420p, the rate rounded to 1/1000.
        out = io.BytesIO()
        with av.open(out, "w", format="mp4", options={"movflags": "use_metadata_tags"}) as container:
            container.metadata["prompt"] = json.dumps(graph)
            stream = container.add_stream("h264", rate=Fraction(round(video["fps"] * 1000), 1000))
            stream.height, stream.width = video["images"].shape[1:3]
            stream.pix_fmt = "yuv420p"
            for picture in video["images"]:
                pixels = np.clip(np.rint(picture * 255), 0, 255).astype(np.uint8)
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuv420p")
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        data = out.getvalue()
    subfolder, _, name = filename_prefix.rpartition("/")
    counter = 1 + sum(1 for (k, sub, _) in server.files if k == "output" and sub == subfolder)
    filename = f"{name}_{counter:05}_.mp4"
    server.files["output", subfolder, filename] = data
    return {"ui": {"images": [{"filename": filename, "subfolder": subfolder, "type": "output"}], "animated": [True]}}


def _vae_decode(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict, samples: dict, vae: str
) -> tuple:
    return (samples["samples"],)


def _save(server: ComfyServer, kind: str, prefix: str, images: np.ndarray, graph: dict) -> dict:
    subfolder, _, name = prefix.rpartition("/")
    counter = 1 + sum(1 for (k, sub, _) in server.files if k == kind and sub == subfolder)
    filename = f"{name}_{counter:05}_.png"
    # SaveImage writes the API graph into the PNG's "prompt" text chunk, as ComfyUI does.
    server.files[kind, subfolder, filename] = _png(images, {"prompt": json.dumps(graph)})
    return {"ui": {"images": [{"filename": filename, "subfolder": subfolder, "type": kind}]}}


def _save_image(
    server: ComfyServer,
    node_id: str,
    prompt_id: str,
    client: str | None,
    graph: dict,
    images: np.ndarray,
    filename_prefix: str,
) -> dict:
    return _save(server, "output", filename_prefix, images, graph)


def _preview_image(
    server: ComfyServer, node_id: str, prompt_id: str, client: str | None, graph: dict, images: np.ndarray
) -> dict:
    return _save(server, "temp", "ComfyUI_temp", images, graph)


NODES: dict[str, NodeClass] = {
    "CheckpointLoaderSimple": NodeClass({"ckpt_name": _combo("checkpoints")}, _checkpoint),
    "CLIPTextEncode": NodeClass({"text": ("STRING", {}), "clip": _link("CLIP")}, _text_encode),
    "LoadImage": NodeClass({"image": ("STRING", {})}, _load_image),
    "ImageScale": NodeClass(
        {
            "image": _link("IMAGE"),
            "upscale_method": _combo(UPSCALE_METHODS),
            "width": _int(0, MAX_RESOLUTION),
            "height": _int(0, MAX_RESOLUTION),
            "crop": _combo(["disabled", "center"]),
        },
        _image_scale,
    ),  # fmt: skip
    "ControlNetLoader": NodeClass({"control_net_name": _combo("controlnet")}, _controlnet_loader),
    "ControlNetApplyAdvanced": NodeClass(
        {
            "positive": _link("CONDITIONING"),
            "negative": _link("CONDITIONING"),
            "control_net": _link("CONTROL_NET"),
            "image": _link("IMAGE"),
            "strength": _float(0.0, 10.0),
            "start_percent": _float(0.0, 1.0),
            "end_percent": _float(0.0, 1.0),
            "vae": _link("VAE"),
        },
        _controlnet_apply,
        optional=frozenset({"vae"}),
    ),  # fmt: skip
    "EmptyLatentImage": NodeClass(
        {"width": _int(16, MAX_RESOLUTION), "height": _int(16, MAX_RESOLUTION), "batch_size": _int(1, 4096)},
        _empty_latent,
    ),
    "VAEEncode": NodeClass({"pixels": _link("IMAGE"), "vae": _link("VAE")}, _vae_encode),
    "KSampler": NodeClass(
        {
            "model": _link("MODEL"),
            "seed": _int(0, 0xFFFFFFFFFFFFFFFF),
            "steps": _int(1, 10000),
            "cfg": _float(0.0, 100.0),
            "sampler_name": _combo(SAMPLERS),
            "scheduler": _combo(SCHEDULERS),
            "positive": _link("CONDITIONING"),
            "negative": _link("CONDITIONING"),
            "latent_image": _link("LATENT"),
            "denoise": _float(0.0, 1.0),
        },
        _ksampler,
    ),  # fmt: skip
    "VAEDecode": NodeClass({"samples": _link("LATENT"), "vae": _link("VAE")}, _vae_decode),
    "SaveImage": NodeClass({"images": _link("IMAGE"), "filename_prefix": ("STRING", {})}, _save_image, output=True),
    # Video: the input names and limits of ComfyUI's own nodes (nodes.py, comfy_extras/nodes_video.py,
    # nodes_wan.py, nodes_model_advanced.py).
    "UNETLoader": NodeClass(
        {
            "unet_name": _combo("diffusion_models"),
            "weight_dtype": _combo(["default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2"]),
        },
        _unet_loader,
    ),
    "CLIPLoader": NodeClass(
        {
            "clip_name": _combo("text_encoders"),
            "type": _combo(["stable_diffusion", "sd3", "mochi", "ltxv", "wan"]),
            "device": _combo(["default", "cpu"]),
        },
        _clip_loader,
        optional=frozenset({"device"}),
    ),
    "VAELoader": NodeClass({"vae_name": _combo("vae")}, _vae_loader),
    "ModelSamplingSD3": NodeClass({"model": _link("MODEL"), "shift": _float(0.0, 100.0)}, _model_sampling_sd3),
    "LoadVideo": NodeClass({"file": ("STRING", {})}, _load_video),
    "GetVideoComponents": NodeClass({"video": _link("VIDEO")}, _get_video_components),
    "WanVaceToVideo": NodeClass(
        {
            "positive": _link("CONDITIONING"),
            "negative": _link("CONDITIONING"),
            "vae": _link("VAE"),
            "width": ("INT", {"min": 16, "max": MAX_RESOLUTION, "step": 16}),
            "height": ("INT", {"min": 16, "max": MAX_RESOLUTION, "step": 16}),
            "length": ("INT", {"min": 1, "max": MAX_RESOLUTION, "step": 4}),
            "batch_size": _int(1, 4096),
            "strength": _float(0.0, 1000.0),
            "control_video": _link("IMAGE"),
            "control_masks": _link("MASK"),
            "reference_image": _link("IMAGE"),
        },
        _wan_vace_to_video,
        optional=frozenset({"control_video", "control_masks", "reference_image"}),
    ),
    "TrimVideoLatent": NodeClass({"samples": _link("LATENT"), "trim_amount": _int(0, 99999)}, _trim_video_latent),
    "CreateVideo": NodeClass(
        {"images": _link("IMAGE"), "fps": _float(1.0, 120.0), "audio": _link("AUDIO")},
        _create_video,
        optional=frozenset({"audio"}),
    ),
    "SaveVideo": NodeClass(
        {
            "video": _link("VIDEO"),
            "filename_prefix": ("STRING", {}),
            "format": _combo(["auto", "mp4"]),
            "codec": _combo(["auto", "h264"]),
        },
        _save_video,
        output=True,
    ),
    "PreviewImage": NodeClass({"images": _link("IMAGE")}, _preview_image, output=True),
}
