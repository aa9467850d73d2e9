"""Backends by name, found through the entry-point group ``soundstage.backends``.

A backend is registered as a factory ``(options, root) -> Backend``: ``options`` is the
``[generate.<name>]`` table of soundstage.toml, ``root`` the production folder (relative paths
in the options are relative to it). The built-in backends (previs, diffusers, comfyui and
the video ones, diffusers_video and comfyui_video) are
registered in Soundstage's own pyproject.toml the same way a studio's plugin registers its own
(examples/plugins/sketch_backend). Only the backend asked for is imported: heavy ones (torch, a
network client) cost nothing until used.
"""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from soundstage.config import Generate
from soundstage.errors import ConfigError, GenerateError
from soundstage.generate.backend import Backend
from soundstage.plugins import installed as installed_in

log = logging.getLogger(__name__)

GROUP = "soundstage.backends"
# The built-in backends as pyproject.toml registers them (a test keeps the two the same).
BUILT_IN = {
    "previs": "soundstage.generate.registry:previs",
    "diffusers": "soundstage.generate.registry:diffusers",
    "comfyui": "soundstage.generate.registry:comfyui",
    "diffusers_video": "soundstage.generate.registry:diffusers_video",
    "comfyui_video": "soundstage.generate.registry:comfyui_video",
}


class BackendFactory(Protocol):
    """What an entry point of ``soundstage.backends`` names: it makes the backend."""

    def __call__(self, options: dict[str, Any], root: Path) -> Backend: ...


def installed() -> dict[str, EntryPoint]:
    """Every backend installed, by name: the built-in ones and those of installed plugins."""
    return installed_in(GROUP, BUILT_IN)


def backend_for(name: str, settings: Generate, root: Path) -> Backend:
    """The backend called ``name``, configured from ``[generate.<name>]``; relative paths in its
    settings are relative to the production folder ``root``."""
    points = installed()
    point = points.get(name)
    if point is None:
        raise GenerateError(f"unknown backend {name!r}; installed backends: {', '.join(sorted(points))}")
    try:
        factory: BackendFactory = point.load()
    except (ImportError, AttributeError) as error:
        raise GenerateError(f"backend {name!r} ({point.value}) cannot be loaded: {error}") from None
    log.debug("backend %s from %s", name, point.value)
    return factory(settings.options(name), root)


# -- the built-in backends' factories ------------------------------------------------------------


def previs(options: dict[str, Any], root: Path) -> Backend:
    """The previs backend: the storyboard itself as a take (no options)."""
    from soundstage.generate.previs import PrevisBackend

    return PrevisBackend()


def diffusers(options: dict[str, Any], root: Path) -> Backend:
    """The diffusers backend, from ``[generate.diffusers]``; it needs the diffusers extra."""
    try:
        from soundstage.generate.diffusers import DiffusersBackend, DiffusersSettings
    except ImportError as error:
        raise GenerateError(
            f"the diffusers backend needs the diffusers extra ({error.name} is missing): "
            "pip install 'soundstage[diffusers]'"
        ) from None
    return DiffusersBackend(backend_settings(DiffusersSettings, options, "diffusers", root))


def comfyui(options: dict[str, Any], root: Path) -> Backend:
    """The ComfyUI backend, from ``[generate.comfyui]``: a ComfyUI server's API."""
    from soundstage.generate.comfyui import ComfyUIBackend, ComfyUISettings

    return ComfyUIBackend(backend_settings(ComfyUISettings, options, "comfyui", root))


def diffusers_video(options: dict[str, Any], root: Path) -> Backend:
    """The video diffusers backend (Wan VACE, AnimateDiff), from ``[generate.diffusers_video]``;
    it needs the diffusers extra."""
    try:
        from soundstage.generate.diffusers_video import DiffusersVideoBackend, DiffusersVideoSettings
    except ImportError as error:
        raise GenerateError(
            f"the diffusers_video backend needs the diffusers extra ({error.name} is missing): "
            "pip install 'soundstage[diffusers]'"
        ) from None
    return DiffusersVideoBackend(backend_settings(DiffusersVideoSettings, options, "diffusers_video", root))


def comfyui_video(options: dict[str, Any], root: Path) -> Backend:
    """The ComfyUI video backend, from ``[generate.comfyui_video]``: video workflows of a ComfyUI
    server."""
    from soundstage.generate.comfyui_video import ComfyUIVideoBackend, ComfyUIVideoSettings

    return ComfyUIVideoBackend(backend_settings(ComfyUIVideoSettings, options, "comfyui_video", root))


SettingsModel = TypeVar("SettingsModel", bound=BaseModel)
# Settings that name files or folders; relative ones are resolved against the production.
_PATH_KEYS = ("workflow", "model", "motion_adapter")


def backend_settings(model: type[SettingsModel], values: dict[str, Any], name: str, root: Path) -> SettingsModel:
    """A backend's settings model from ``[generate.<name>]``, one ConfigError line when wrong;
    relative ``workflow`` and ``model`` paths that exist in the production are made absolute.
    Plugins validate their options with it too."""
    values = dict(values)
    for key in _PATH_KEYS:
        value = values.get(key)
        if isinstance(value, str) and value and not Path(value).is_absolute() and (root / value).exists():
            values[key] = str(root / value)
    try:
        return model(**values)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"soundstage.toml: generate.{name}.{key}: {first['msg']}") from None
