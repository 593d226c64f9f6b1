"""The registry as ``GET /api/components`` lists it: one row per component, with the package it came from."""

from __future__ import annotations

import functools
from importlib import metadata
from typing import Any

from motionkit import registry


@functools.lru_cache(maxsize=1)
def _owners() -> dict[str, list[str]]:
    """Top-level module -> distributions providing it (scanning them all takes a second: once)."""
    return dict(metadata.packages_distributions())


def _distribution(value: str) -> tuple[str | None, str | None]:
    """``(package, version)`` of the distribution an entry point ``module:attribute`` lives in."""
    top = value.split(":", 1)[0].split(".", 1)[0]
    names = _owners().get(top, [])
    if not names:
        return None, None
    try:
        return names[0], metadata.version(names[0])
    except metadata.PackageNotFoundError:
        return names[0], None


def component_listing() -> list[dict[str, Any]]:
    """``[{kind, name, origin, package, version, status, error}]``: every registered component and backend.

    ``status`` is ``"loaded"``; a plugin whose entry point failed to load gets one row of kind
    ``"plugin"`` with ``status="failed"`` and its error.
    """
    import motionkit

    plugins = {status.name: status for status in registry.plugins()}
    rows = []
    for kind, names in registry.available().items():
        for name, origin in names.items():
            if origin == "motionkit":
                package, version = "motionkit", motionkit.__version__
            elif origin in plugins:
                package, version = _distribution(plugins[origin].value)
            else:
                package, version = None, None
            rows.append({"kind": kind, "name": name, "origin": origin, "package": package, "version": version,
                         "status": "loaded", "error": None})
    for status in plugins.values():
        if not status.loaded:
            package, version = _distribution(status.value)
            rows.append({"kind": "plugin", "name": status.name, "origin": status.name, "package": package,
                         "version": version, "status": "failed", "error": status.error})
    return rows
