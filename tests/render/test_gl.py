"""The one headless GL context: shared, on its own thread, and a clear error without EGL."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from soundstage.render.gl import GL_PACKAGES, gl_context
from soundstage.render.previs import PrevisRenderer


def test_one_context_for_the_process_and_every_renderer() -> None:
    with PrevisRenderer() as first, PrevisRenderer() as second:
        assert gl_context() is gl_context()
        assert first._ctx is second._ctx is gl_context()
        # A real GL context: Mesa's llvmpipe here, the vendor's driver on a GPU machine.
        assert gl_context().version_code >= 330


def test_another_thread_is_refused_rather_than_drawing_nothing() -> None:
    gl_context()
    errors: list[BaseException] = []

    def render_elsewhere() -> None:
        try:
            gl_context()
        except RuntimeError as error:
            errors.append(error)

    thread = threading.Thread(target=render_elsewhere)
    thread.start()
    thread.join()
    assert len(errors) == 1 and "another thread" in str(errors[0])


def test_missing_egl_driver_names_the_debian_packages() -> None:
    # A vendor file that does not exist: libglvnd finds no EGL driver, as on a bare machine.
    program = (
        "from soundstage.errors import RenderError\n"
        "from soundstage.render.gl import gl_context\n"
        "try:\n"
        "    gl_context()\n"
        "except RenderError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        env={**os.environ, "__EGL_VENDOR_LIBRARY_FILENAMES": "/nonexistent.json"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    message = result.stdout.rstrip("\n")
    assert message and "\n" not in message
    assert GL_PACKAGES in message and "libegl1 libegl-mesa0 libgl1-mesa-dri" in message
