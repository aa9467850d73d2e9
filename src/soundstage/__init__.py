"""Soundstage: a production system for small, AI-assisted animation and TV crews."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("soundstage")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
