"""Backends by name. Heavy ones (torch, network clients) are imported only when asked for."""

from __future__ import annotations

from soundstage.config import Generate
from soundstage.errors import GenerateError
from soundstage.generate.backend import Backend
from soundstage.generate.previs import PrevisBackend

BACKENDS = ("previs", "diffusers", "comfyui")


def backend_for(name: str, settings: Generate) -> Backend:
    """The backend called ``name``, configured from ``[generate.<name>]``."""
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
        return DiffusersBackend(DiffusersSettings(**settings.diffusers))
    if name == "comfyui":
        from soundstage.generate.comfyui import ComfyUIBackend, ComfyUISettings

        return ComfyUIBackend(ComfyUISettings(**settings.comfyui))
    raise GenerateError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
