"""Components by kind and name, backend pairs as data, and lazily discovered plugins.

Three component kinds can be swapped by name:

- ``"predictor"``: image + trajectories + mask (+ prompt) -> :class:`~motionkit.MotionField`
- ``"renderer"``: image + MotionField (+ mask) -> :class:`~motionkit.Clip`
- ``"flow_estimator"``: Clip -> MotionField

A **backend** (kind ``"backend"``) is plain data: a predictor name, a renderer name and the
options the predictor hands its renderer (:class:`Backend`). ``classical`` is ``sparse`` +
``warp``; ``motion-i2v`` pairs the learned stages, which share their weights, device and
sampling settings. :func:`motionkit.animate` reads these pairs, so a plugin that registers a
backend needs no change anywhere else.

Built-ins are named here as ``"module:attribute"`` strings and imported only when first
asked for, so ``import motionkit`` stays cheap and backends never import each other.
Third-party packages add components through the entry-point group ``motionkit.plugins``;
each entry point names a callable that receives this module's :func:`register` (or a module
whose import calls it); ``register("backend", name, {"predictor": ..., "renderer": ...})``
adds a backend through the same callable. Plugins load on the first lookup or listing, and a plugin that fails
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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Literal

from motionkit.errors import InvalidInputError, PluginLoadError, UnknownComponentError

Kind = Literal["predictor", "renderer", "flow_estimator"]
KINDS: tuple[Kind, ...] = ("predictor", "renderer", "flow_estimator")
"""The component kinds, each a table of names."""
ENTRY_POINT_GROUP = "motionkit.plugins"
"""The entry-point group third-party packages add components through."""
BACKEND = "backend"
"""The kind under which backend pairs are registered (data, not factories)."""

LEARNED_SHARED_OPTIONS = ("weights", "device", "dtype", "seed", "steps", "guidance", "negative_prompt", "eta",
                          "cpu_offload", "vae_tiling", "resolution", "max_area", "progress", "prompt")
"""What the learned predictor hands the learned renderer: weights, devices, precision and
sampling settings, and the prompt that ``animate`` was given."""


@dataclass(frozen=True)
class Backend:
    """A predictor and a renderer that work as a pair.

    Attributes:
        predictor: registered predictor name.
        renderer: registered renderer name.
        shared_options: option names the renderer takes over from the predictor's options when
            the two are used together (``"prompt"`` stands for the verb's ``prompt`` argument).

    Example:
        >>> backend("classical")
        Backend(predictor='sparse', renderer='warp', shared_options=())
    """

    predictor: str
    renderer: str
    shared_options: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for role in ("predictor", "renderer"):
            if not isinstance(getattr(self, role), str) or not getattr(self, role):
                raise InvalidInputError(f"a backend's {role} must be a registered name, got {getattr(self, role)!r}")
        given = self.shared_options
        options = () if isinstance(given, str) else tuple(given)
        if isinstance(given, str) or not all(isinstance(o, str) for o in options):
            raise InvalidInputError(f"shared_options must be a sequence of option names, got {given!r}")
        # Frozen: set the normalised tuple through object.__setattr__ (lists arrive from plugins).
        object.__setattr__(self, "shared_options", options)


# name -> factory ("module:attr" until first use, then the imported callable); backends live in
# the same table (as Backend values) so that one copy of it isolates every registration in tests.
_components: dict[str, dict[str, Any]] = {
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
    BACKEND: {
        "classical": Backend("sparse", "warp"),
        "motion-i2v": Backend("motion-i2v", "motion-i2v", LEARNED_SHARED_OPTIONS),
    },
}
_origin: dict[tuple[str, str], str] = {
    (kind, name): "motionkit" for kind, names in _components.items() for name in names
}


@dataclass(frozen=True)
class PluginStatus:
    """What happened when one entry point of ``motionkit.plugins`` was loaded.

    Attributes:
        name: the entry point's name (the origin :func:`available` reports for its components).
        value: what it points to, ``"package.module:attribute"``.
        loaded: whether it imported (and its registration call ran) without error.
        error: the exception's one-line summary when it did not, else None.
    """

    name: str
    value: str
    loaded: bool
    error: str | None = None


_plugins: list[PluginStatus] | None = None


def _check_kind(kind: str, *, backends: bool = False) -> None:
    known = (*KINDS, BACKEND) if backends else KINDS
    if kind not in known:
        raise InvalidInputError(f"unknown component kind {kind!r}; expected one of {', '.join(known)}")


def register(kind: Kind | str, name: str, factory: Callable[..., Any] | str | Any = None, *, origin: str = "plugin"):
    """Register ``factory`` (a class or callable returning a component) as ``kind``/``name``.

    Usable directly, ``register("renderer", "svd", SVDRenderer)``, or as a decorator,
    ``@register("renderer", "svd")``. ``factory`` may also be a ``"module:attr"`` string,
    imported on first use. Registering an existing name replaces it (last wins), which
    lets a plugin override a built-in deliberately. With ``kind="backend"`` the third
    argument is a :class:`Backend` or a mapping of its fields (see :func:`register_backend`).
    """
    _check_kind(kind, backends=True)
    if not name or not isinstance(name, str):
        raise InvalidInputError(f"component name must be a non-empty string, got {name!r}")

    def _do(obj):
        if kind == BACKEND:
            obj = _as_backend(name, obj)
        _components[kind][name] = obj
        _origin[(kind, name)] = origin
        return obj

    return _do if factory is None else _do(factory)


def _as_backend(name: str, value: Backend | Mapping[str, Any]) -> Backend:
    if isinstance(value, Backend):
        return value
    if isinstance(value, Mapping):
        try:
            return Backend(**value)
        except TypeError as exc:
            raise InvalidInputError(f"backend {name!r}: {exc}; expected predictor=, renderer= and shared_options=") from None
    raise InvalidInputError(f"backend {name!r} must be a Backend or a mapping with predictor and renderer, got {value!r}")


def register_backend(
    name: str, *, predictor: str, renderer: str, shared_options: Iterable[str] = (), origin: str = "plugin"
) -> Backend:
    """Register the pair ``predictor`` + ``renderer`` as backend ``name`` (last wins).

    ``shared_options`` are the names of predictor options the renderer takes over when the two
    run together (``"prompt"``: the verb's prompt). Plugins may instead call the ``register``
    they receive: ``register("backend", name, {"predictor": ..., "renderer": ...})``.

    Example:
        >>> register_backend("still", predictor="sparse", renderer="warp", origin="docs")
        Backend(predictor='sparse', renderer='warp', shared_options=())
    """
    return register(BACKEND, name, Backend(predictor, renderer, shared_options), origin=origin)  # type: ignore[arg-type]


def backend(name: str) -> Backend:
    """The registered backend ``name``.

    Raises:
        InvalidInputError: no backend has that name (the message lists those that exist).
    """
    _load_plugins()
    table = _components[BACKEND]
    if not isinstance(name, str) or name not in table:
        raise InvalidInputError(f"unknown backend {name!r}; expected one of {', '.join(sorted(table))}")
    return table[name]


def shared_options(*, predictor: str | None = None, renderer: str | None = None) -> tuple[str, ...]:
    """Options shared by the backends that pair ``predictor`` with ``renderer`` (None = any name).

    With both names: what this predictor hands this renderer (empty when no backend pairs them).
    With one: every shared option that component takes in some pairing.

    Example:
        >>> shared_options(predictor="sparse", renderer="warp")
        ()
        >>> "weights" in shared_options(renderer="motion-i2v")
        True
    """
    _load_plugins()
    found: dict[str, None] = {}  # an ordered set
    for pair in _components[BACKEND].values():
        if predictor in (None, pair.predictor) and renderer in (None, pair.renderer):
            found.update(dict.fromkeys(pair.shared_options))
    return tuple(found)


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
    """Everything registered: ``{kind: {name: origin}}`` for the three kinds and ``"backend"``.

    The origin is ``"motionkit"`` or the plugin's entry-point name.
    """
    _load_plugins()
    kinds = (*KINDS, BACKEND)
    return {kind: {name: _origin.get((kind, name), "plugin") for name in sorted(_components[kind])} for kind in kinds}


def plugins() -> list[PluginStatus]:
    """The entry points of ``motionkit.plugins`` found in this environment and whether each loaded."""
    return list(_load_plugins())
