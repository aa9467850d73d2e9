"""Previs rendering: the headless GL context, the passes of a shot and the framing checks, and
previs clips: every frame of an animated layout (``clips``, ``labels``) as lossless video
(``video``)."""
