"""Backends by name. Heavy ones (torch, network clients) are imported only when asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from soundstage.config import Generate
from soundstage.errors import ConfigError, GenerateError
from soundstage.generate.backend import Backend
from soundstage.generate.previs import PrevisBackend

BACKENDS = ("previs", "diffusers", "comfyui")


def backend_for(name: str, settings: Generate, root: Path) -> Backend:
    """The backend called ``name``, configured from ``[generate.<name>]``; relative paths in
    its settings are relative to the production folder ``root``."""
    if name == "previs":
        return PrevisBackend()
    if name == "diffusers":
        try:
            from soundstage.generate.diffusers import DiffusersBackend, DiffusersSettings
        except ImportError as error:
            raise GenerateError(
                f"the diffusers backend needs the diffusers extra ({error.name} is missing): "
                "pip install 'soundstage[diffusers]'"
            ) from None
        return DiffusersBackend(_settings(DiffusersSettings, settings.diffusers, "diffusers", root))
    if name == "comfyui":
        from soundstage.generate.comfyui import ComfyUIBackend, ComfyUISettings

        return ComfyUIBackend(_settings(ComfyUISettings, settings.comfyui, "comfyui", root))
    raise GenerateError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")


SettingsModel = TypeVar("SettingsModel", bound=BaseModel)
# Settings that name files or folders; relative ones are resolved against the production.
_PATH_KEYS = ("workflow", "model")


def _settings(model: type[SettingsModel], values: dict[str, Any], name: str, root: Path) -> SettingsModel:
    """A backend's settings from ``[generate.<name>]``, one ConfigError line when wrong."""
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
