"""Previs rendering: the headless GL context, the passes of a shot and the framing checks."""
