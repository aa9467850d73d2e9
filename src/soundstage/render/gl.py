"""The one headless OpenGL context of the process.

Previs renders through EGL without a window: Mesa's llvmpipe on a CPU-only machine, the
vendor driver (NVIDIA) where a GPU is present. Creating a context costs tens of milliseconds
and every context owns driver threads and memory, so the process keeps exactly one and every
renderer shares it.
"""

from __future__ import annotations

import threading

import moderngl

from soundstage.errors import RenderError

# The Debian packages that provide EGL and a GL driver that needs no display.
GL_PACKAGES = "libegl1 libegl-mesa0 libgl1-mesa-dri"
# The previs shaders are GLSL 3.30 (multiple render targets, flat varyings).
GL_VERSION = 330

_context: moderngl.Context | None = None
_owner: int | None = None  # the thread the context is current on
_lock = threading.Lock()


def gl_context() -> moderngl.Context:
    """The process-wide standalone GL context (EGL backend), created on first use.

    Raises RenderError, one line naming the Debian packages to install, when EGL or a GL
    driver is missing. The context stays current on the thread that created it; EGL cannot
    share it with another thread, so a call from another thread raises RuntimeError instead
    of letting GL calls silently draw nothing.
    """
    global _context, _owner
    with _lock:
        if _context is None:
            try:
                _context = moderngl.create_standalone_context(backend="egl", require=GL_VERSION)
            except Exception as error:  # glcontext and moderngl raise plain Exception for every failure
                raise RenderError(
                    f"headless OpenGL {GL_VERSION // 100}.{GL_VERSION % 100 // 10} is not available "
                    f"({error}); install the Debian packages {GL_PACKAGES}"
                ) from None
            _owner = threading.get_ident()
        if threading.get_ident() != _owner:
            raise RuntimeError(
                "the GL context belongs to another thread: render previs from the thread that created it"
            )
        return _context
