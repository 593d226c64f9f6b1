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

**The option rule.** An option no component of the chosen pipeline uses is an
:class:`~motionkit.errors.UnusedOptionError` naming it and the components that would use it.
What a component uses is read from its signatures (:func:`accepts`): its factory's named
parameters and its ``predict``/``render`` keywords beyond the protocol's. :func:`create` (so
``Renderer.get``) applies it to constructor options; verbs and the CLI call :func:`check_options`.

Example:
    >>> from motionkit import registry
    >>> renderer = registry.create("renderer", "warp")
    >>> sorted(registry.available()["renderer"])[:1]
    ['motion-i2v']
"""

from __future__ import annotations

import functools
import importlib
import inspect
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Literal

from motionkit.errors import InvalidInputError, PluginLoadError, UnknownComponentError, UnusedOptionError

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
        UnusedOptionError: an option the component's factory does not take (the message names
            the components of this kind that do).
    """
    factory = _resolve(kind, name)
    if options:
        _check_constructor(accepts(kind, name), options)
    return factory(**options)


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


# -- the option rule ------------------------------------------------------------------------

#: Per kind: the protocol method and the parameters every caller passes to every component
#: (so they are no component's own option). Any other keyword of that method is a per-call
#: option the component uses, like ``prompt``.
PROTOCOL: dict[str, tuple[str, frozenset[str]]] = {
    "predictor": ("predict", frozenset({"image", "trajectories", "mask", "frames", "size"})),
    "renderer": ("render", frozenset({"image", "motion", "mask", "fps"})),
    "flow_estimator": ("estimate", frozenset({"clip"})),
}


@dataclass(frozen=True)
class Accepts:
    """The options one component uses, read from its signatures (see :func:`accepts`).

    Attributes:
        kind, name: the component kind and registered name (the class name for a ready object).
        options: the factory's (constructor's) named keyword parameters.
        call: keywords of the protocol method beyond the protocol's own (``prompt`` for a
            learned renderer's ``render``, ``objects`` for an object-aware predictor's ``predict``).
        any_option: the factory takes unnamed ``**kwargs``, so the rule cannot tell (name the
            options, or set ``__signature__``, to have them checked).
    """

    kind: str
    name: str
    options: frozenset[str]
    call: frozenset[str]
    any_option: bool = False

    def uses(self, option: str) -> bool:
        """Whether ``option`` is a constructor option or a per-call keyword of this component."""
        return option in self.options or option in self.call or self.any_option

    def label(self) -> str:  # "renderer 'warp'", for messages
        return f"{self.kind.replace('_', ' ')} {self.name!r}"


def _parameters(function: Any, skip: frozenset[str] = frozenset()) -> tuple[frozenset[str], bool]:
    """Named keyword parameters of ``function`` (minus ``self`` and ``skip``) and whether it has ``**kwargs``."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin without a signature: nothing can be said
        return frozenset(), True
    named = {p.name for p in signature.parameters.values()
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"}
    var = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    return frozenset(named - skip), var


def accepts(kind: Kind, component: str | Any) -> Accepts:
    """What component ``component`` (a registered name, or a ready object) of ``kind`` uses.

    Example:
        >>> sorted(accepts("renderer", "warp").options)
        ['fill', 'sharpness', 'splat', 'work_size']
        >>> accepts("renderer", "motion-i2v").uses("prompt"), accepts("renderer", "warp").uses("prompt")
        (True, False)
    """
    _check_kind(kind)
    method, protocol = PROTOCOL[kind]
    if isinstance(component, str):
        factory, name = _resolve(kind, component), component
        options, any_option = _parameters(factory)
        owner = factory if isinstance(factory, type) else None
    else:  # a ready component: it is built, so only its per-call keywords are left to give
        owner, name, options, any_option = type(component), type(component).__name__, frozenset(), False
    call: frozenset[str] = frozenset()
    if owner is not None and callable(getattr(owner, method, None)):
        call, _ = _parameters(getattr(owner, method), protocol)
    return Accepts(kind, name, options, call, any_option)


def _users(kinds: Iterable[str], option: str, *, constructor_only: bool = False) -> list[str]:
    """Labels of the registered components of ``kinds`` that use ``option`` (with the backends of predictors)."""
    found = []
    for kind in kinds:
        for name in sorted(_components[kind]):
            try:
                taken = accepts(kind, name)  # type: ignore[arg-type]
            except Exception:  # a component that fails to load uses nothing
                continue
            if taken.any_option or not (option in taken.options or (not constructor_only and option in taken.call)):
                continue
            pairs = [b for b, pair in sorted(_components[BACKEND].items()) if kind == "predictor" and pair.predictor == name]
            found.append(taken.label() + (f" (backend {', '.join(map(repr, pairs))})" if pairs else ""))
    return found


def _check_constructor(taken: Accepts, options: Mapping[str, Any]) -> None:
    unknown = [k for k in options if k not in taken.options] if not taken.any_option else []
    for option in unknown:
        where = f"; it is an argument of {PROTOCOL[taken.kind][0]}() per call" if option in taken.call else ""
        users = _users([taken.kind], option, constructor_only=True)
        own = ", ".join(sorted(taken.options)) or "none"
        raise UnusedOptionError(
            f"{taken.label()} takes no option {option!r} (its options: {own}){where}; "
            + (f"it is an option of {', '.join(users)}" if users else "no registered component takes it"),
            options=(option,), chosen={taken.kind: taken.name}, users={option: tuple(users)},
        )


def check_options(
    options: Iterable[str] | Mapping[str, Any], /, *, labels: Mapping[str, str] | None = None, **chosen: Any
) -> None:
    """Refuse options that no chosen component uses: the one option rule of verbs, CLI and documents.

    Args:
        options: the option names the user gave (or a mapping whose ``None`` values count as not
            given, so defaults are never an error); not those a verb consumes itself (``frames``, ``fps``).
        labels: how to name each option in the message (``{"steps": "--steps"}`` on the command line).
        **chosen: the pipeline by role (``predictor=``, ``renderer=``, ``flow_estimator=``), each a
            registered name or a ready component (``None``: not part of this pipeline).

    Raises:
        UnusedOptionError: the first options no chosen component uses, with the components of the
            chosen kinds that would use each (``.options``, ``.chosen``, ``.users``).

    Example:
        >>> check_options({"prompt": None}, predictor="sparse", renderer="warp")  # a default: fine
        >>> check_options(["prompt"], predictor="sparse", renderer="warp")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        motionkit.errors.UnusedOptionError: option 'prompt' is used by none of predictor 'sparse' + renderer 'warp'; ...
    """
    pipeline = {kind: component for kind, component in chosen.items() if component is not None}
    taken = [accepts(kind, component) for kind, component in pipeline.items()]
    given = [k for k, v in options.items() if v is not None] if isinstance(options, Mapping) else list(options)
    unused = [o for o in given if not any(t.uses(o) for t in taken)]
    if not unused:
        return
    name = {o: dict(labels or {}).get(o, repr(o)) for o in unused}
    users = {o: tuple(_users(pipeline, o)) for o in unused}
    where = "; ".join(f"{name[o]} is used by {', '.join(u)}" if u else f"no registered component uses {name[o]}" for o, u in users.items())
    raise UnusedOptionError(
        f"option{'s' * (len(unused) > 1)} {', '.join(name.values())} {'is' if len(unused) == 1 else 'are'} used by none of "
        f"{' + '.join(t.label() for t in taken)}; {where}",
        options=tuple(unused), chosen={t.kind: t.name for t in taken}, users=users,
    )


def route_options(options: Mapping[str, Any], *, labels: Mapping[str, str] | None = None, **chosen: Any) -> dict[str, dict[str, Any]]:
    """Hand each given option to every chosen component whose factory takes it, after :func:`check_options`.

    Returns ``{role: {option: value}}`` for the constructors (per-call options such as a
    predictor's ``prompt`` are the verb's to pass); ``None`` values are left out.

    Example:
        >>> route_options({"seed": 1, "steps": None}, predictor="motion-i2v", renderer="warp")
        {'predictor': {'seed': 1}, 'renderer': {}}
    """
    check_options(options, labels=labels, **chosen)
    given = {k: v for k, v in options.items() if v is not None}
    return {kind: {k: v for k, v in given.items() if k in accepts(kind, component).options}
            for kind, component in chosen.items() if component is not None}
