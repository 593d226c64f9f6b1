"""Components by kind and name, with lazily discovered third-party plugins.

Three component kinds can be swapped by name:

- ``"predictor"``: image + trajectories + mask (+ prompt) -> :class:`~motionkit.MotionField`
- ``"renderer"``: image + MotionField (+ mask) -> :class:`~motionkit.Clip`
- ``"flow_estimator"``: Clip -> MotionField

Built-ins are named here as ``"module:attribute"`` strings and imported only when first
asked for, so ``import motionkit`` stays cheap and backends never import each other.
Third-party packages add components through the entry-point group ``motionkit.plugins``;
each entry point names a callable that receives this module's :func:`register` (or a module
whose import calls it). Plugins load on the first lookup or listing, and a plugin that fails
to import is recorded with its error instead of breaking the others.

Example:
    >>> from motionkit import registry
    >>> renderer = registry.create("renderer", "warp")
    >>> sorted(registry.available()["renderer"])[:1]
    ['motion-i2v']
"""

from __future__ import annotations

import functools
import importlib
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Literal

from motionkit.errors import InvalidInputError, PluginLoadError, UnknownComponentError

Kind = Literal["predictor", "renderer", "flow_estimator"]
KINDS: tuple[Kind, ...] = ("predictor", "renderer", "flow_estimator")
ENTRY_POINT_GROUP = "motionkit.plugins"

# name -> factory ("module:attr" until first use, then the imported callable)
_components: dict[str, dict[str, str | Callable[..., Any]]] = {
    "predictor": {
        "sparse": "motionkit.classical.densify:SparsePredictor",
        "motion-i2v": "motionkit.pipelines.motion_i2v:MotionI2VPredictor",
    },
    "renderer": {
        "warp": "motionkit.classical.render:WarpRenderer",
        "motion-i2v": "motionkit.pipelines.motion_i2v:MotionI2VRenderer",
    },
    "flow_estimator": {
        "dis": "motionkit.classical.flow:DISFlowEstimator",
        "farneback": "motionkit.classical.flow:FarnebackFlowEstimator",
    },
}
_origin: dict[tuple[str, str], str] = {
    (kind, name): "motionkit" for kind, names in _components.items() for name in names
}


@dataclass(frozen=True)
class PluginStatus:
    """What happened when one entry point of ``motionkit.plugins`` was loaded."""

    name: str
    value: str
    loaded: bool
    error: str | None = None


_plugins: list[PluginStatus] | None = None


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InvalidInputError(f"unknown component kind {kind!r}; expected one of {', '.join(KINDS)}")


def register(kind: Kind, name: str, factory: Callable[..., Any] | str | None = None, *, origin: str = "plugin"):
    """Register ``factory`` (a class or callable returning a component) as ``kind``/``name``.

    Usable directly, ``register("renderer", "svd", SVDRenderer)``, or as a decorator,
    ``@register("renderer", "svd")``. ``factory`` may also be a ``"module:attr"`` string,
    imported on first use. Registering an existing name replaces it (last wins), which
    lets a plugin override a built-in deliberately.
    """
    _check_kind(kind)
    if not name or not isinstance(name, str):
        raise InvalidInputError(f"component name must be a non-empty string, got {name!r}")

    def _do(obj):
        _components[kind][name] = obj
        _origin[(kind, name)] = origin
        return obj

    return _do if factory is None else _do(factory)


def _load_plugins() -> list[PluginStatus]:
    global _plugins
    if _plugins is not None:
        return _plugins
    _plugins = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            target = ep.load()
            if callable(target) and not isinstance(target, type):
                target(functools.partial(register, origin=ep.name))
            _plugins.append(PluginStatus(ep.name, ep.value, True))
        except Exception as exc:  # a broken plugin must not take the others down
            summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            _plugins.append(PluginStatus(ep.name, ep.value, False, summary))
    return _plugins


def _resolve(kind: str, name: str) -> Callable[..., Any]:
    _check_kind(kind)
    _load_plugins()
    table = _components[kind]
    if name not in table:
        known = ", ".join(sorted(table)) or "none"
        failed = [p for p in _plugins or [] if not p.loaded]
        hint = f"; {len(failed)} plugin(s) failed to load, see `motionkit plugins`" if failed else ""
        raise UnknownComponentError(f"no {kind.replace('_', ' ')} named {name!r}; available: {known}{hint}")
    factory = table[name]
    if isinstance(factory, str):
        module_name, _, attr = factory.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise PluginLoadError(f"{kind} {name!r} could not be loaded from {table[name]!r}: {exc}") from exc
        table[name] = factory
    return factory


def create(kind: Kind, name: str, **options: Any) -> Any:
    """Instantiate the component ``kind``/``name`` with ``options`` as keyword arguments.

    Raises:
        UnknownComponentError: no component of that kind has that name.
        PluginLoadError: the component's module could not be imported.
    """
    return _resolve(kind, name)(**options)


def available() -> dict[str, dict[str, str]]:
    """All registered components: ``{kind: {name: origin}}`` (origin is ``"motionkit"`` or the plugin)."""
    _load_plugins()
    return {kind: {name: _origin.get((kind, name), "plugin") for name in sorted(_components[kind])} for kind in KINDS}


def plugins() -> list[PluginStatus]:
    """The entry points of ``motionkit.plugins`` found in this environment and whether each loaded."""
    return list(_load_plugins())
