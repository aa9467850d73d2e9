"""The review room's pages: one Jinja2 environment over web/templates, and ``render``, which every
page and error page goes through (it adds the person and their CSRF token to the context).

A module of its own so the app and its routes both import it and never each other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """A page, with the person (if any) and their CSRF token in its context."""
    principal = getattr(request.state, "principal", None)
    context = {"principal": principal, "csrf": principal.csrf if principal else "", **context}
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)
