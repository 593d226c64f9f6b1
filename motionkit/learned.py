"""The options every learned component shares, declared once, for built-ins and plugins alike.

A learned renderer (``motion-i2v``, a plugin's diffusers backbone) is told the same things:
which weights (``model``), in which precision and where (``dtype``, ``device``,
``cpu_offload``, ``vae_tiling``), how to sample (``steps``, ``guidance``; text
belongs to the backbones that read it), from which randomness (``seed``, ``generator``) and whether to show
progress (``progress``, ``callback``). :class:`LearnedOptions` holds exactly these, checked
and normalised once; a plugin subclasses it to add its own fields and gets the same
machinery: :meth:`OptionTable.build` (an options object + keywords, unknown names refused with
the list of known ones) and :meth:`OptionTable.keywords` (the component's constructor
signature generated from the fields, so ``help()``, IDEs and the option rule see every option
by name).

The table machinery (:func:`option`, :class:`OptionTable`) is also what
``motionkit.pipelines.motion_i2v.options.MotionI2VOptions`` is built on; that table calls the
model location ``weights`` (its name since the first release, and the CLI's ``--model``/
``--weights``); :meth:`LearnedOptions.build` accepts ``weights=`` as the same thing as ``model=``.

This module imports torch; ``import motionkit`` does not import it (the name is lazy).

Example:
    >>> options = LearnedOptions(model="Wan-AI/Wan2.2-TI2V-5B-Diffusers", dtype="bf16", device="cpu", steps=30)
    >>> options.dtype, options.steps, options.guidance is None
    (torch.bfloat16, 30, True)
    >>> LearnedOptions.build("renderer", options, {"weights": "./wan"}).model
    './wan'
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from motionkit.errors import InvalidInputError

#: Spellings of the precisions a learned component accepts.
DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32, "fp32": torch.float32, "float": torch.float32,
    "float16": torch.float16, "fp16": torch.float16, "half": torch.float16,
    "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
}

#: ``callback(step, total, preview)`` after every denoising step (``preview``: a latent or rough RGB tensor).
Callback = Callable[[int, int, torch.Tensor], None]


def resolve_dtype(dtype: str | torch.dtype | None, default: torch.dtype = torch.float32) -> torch.dtype:
    """``"float16"``/``"fp16"``/``torch.float16``... -> a torch dtype (None -> ``default``).

    Raises:
        InvalidInputError: an unknown name or a dtype that is not a floating point one.

    Example:
        >>> resolve_dtype("bf16")
        torch.bfloat16
    """
    if dtype is None:
        return default
    if isinstance(dtype, torch.dtype) and dtype.is_floating_point:
        return dtype
    if isinstance(dtype, str) and dtype.lower() in DTYPES:
        return DTYPES[dtype.lower()]
    raise InvalidInputError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPES)}")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """The device to run on: ``device`` if given, else CUDA when available, else the CPU.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def option(default: Any, *, used_by: tuple[str, ...] | None = None, shared: bool = False) -> Any:
    """A field of an :class:`OptionTable`: ``used_by`` names the roles that take it (None: every role);
    ``shared`` ones are handed from one role to the next when components run as one backend."""
    return field(default=default, metadata={"used_by": used_by, "shared": shared})


class OptionTable:
    """Machinery for a frozen dataclass of options: per-role names, building from keywords, signatures.

    Subclasses set :attr:`ROLES` (the components that take options from the table) and
    :attr:`OWNER` (how messages name them) and declare fields with :func:`option`.
    """

    #: The roles (components) that take options from this table.
    ROLES: ClassVar[tuple[str, ...]] = ("renderer",)
    #: What messages call the components, e.g. ``"motion-i2v"`` -> "the motion-i2v renderer has no option ...".
    OWNER: ClassVar[str] = "learned"
    #: Other names a keyword may be given under, ``{alias: field}``.
    ALIASES: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def names(cls, role: str | None = None) -> tuple[str, ...]:
        """The options ``role`` takes (None: every option), in declaration order."""
        return tuple(f.name for f in dataclasses.fields(cls)  # type: ignore[arg-type]
                     if role is None or f.metadata.get("used_by") is None or role in f.metadata["used_by"])

    @classmethod
    def shared(cls) -> tuple[str, ...]:
        """The options one role hands on to the next when they run as one backend."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get("shared"))  # type: ignore[arg-type]

    @classmethod
    def build(cls, role: str, options: Any = None, keywords: Mapping[str, Any] | None = None) -> Any:
        """``options`` (default: all defaults) with ``keywords`` applied, refusing names ``role`` does not take.

        Raises:
            InvalidInputError: a keyword is not an option of ``role`` (the message lists those that are
                and says which other role takes it).
        """
        keywords = {cls.ALIASES.get(k, k): v for k, v in dict(keywords or {}).items()}
        takes = cls.names(role)
        unknown = sorted(set(keywords) - set(takes))
        if unknown:
            others = {other: set(cls.names(other)) for other in cls.ROLES if other != role}
            hints = [f"{name}: an option of the {other}" for name in unknown for other, theirs in others.items() if name in theirs]
            hint = f" ({'; '.join(hints)})" if hints else ""
            raise InvalidInputError(
                f"the {cls.OWNER} {role} has no option {', '.join(map(repr, unknown))}{hint}; its options are: {', '.join(takes)}"
            )
        if options is None:
            return cls(**keywords)
        if not isinstance(options, cls):
            if not isinstance(options, OptionTable) or not dataclasses.is_dataclass(options):
                raise InvalidInputError(f"options must be a {cls.__name__}, got {type(options).__name__}")
            # A more general table (e.g. plain LearnedOptions handed to a plugin): keep the fields both know.
            mine = set(cls.names())
            carried = {f.name: getattr(options, f.name) for f in dataclasses.fields(options) if f.name in mine}
            return cls(**{**carried, **keywords})
        return dataclasses.replace(options, **keywords) if keywords else options

    @classmethod
    def keywords(cls, role: str, *, skip: tuple[str, ...] = (), aliases: bool = False) -> Callable[[Callable[..., None]], Callable[..., None]]:
        """Decorate ``__init__(self, <fixed parameters>, **keywords)`` so its signature lists ``role``'s options.

        The options become keyword-only parameters (``skip``: those already among the fixed ones);
        with ``aliases`` the other names of :attr:`ALIASES` are listed too (default None), so that a
        caller reading signatures (the option rule, the CLI's ``--model`` arriving as ``weights``) sees them.
        """
        defaults = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=defaults[name].default,
                                   annotation=defaults[name].type) for name in cls.names(role) if name not in skip]
        if aliases:
            extra += [inspect.Parameter(alias, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=defaults[target].type)
                      for alias, target in cls.ALIASES.items() if target in cls.names(role)]

        def sign(init: Callable[..., None]) -> Callable[..., None]:
            fixed = list(inspect.signature(init).parameters.values())[:-1]  # all but **keywords
            init.__signature__ = inspect.Signature(fixed + extra)  # type: ignore[attr-defined]
            return init

        return sign


@dataclass(frozen=True)
class LearnedOptions(OptionTable):
    """What every learned renderer can be told (a plugin's options subclass this).

    Values are checked and normalised on construction (``dtype`` -> ``torch.dtype``, ``device``
    -> ``torch.device``); the object is immutable, ``dataclasses.replace`` gives changed copies.

    Attributes:
        model: the weights: a local diffusers folder (``model_index.json`` at its top) or a
            Hugging Face hub id already in the local cache; None: the component's default place
            (an environment variable, then a folder under ``~/.cache/motionkit``). ``weights=`` is
            accepted as the same option (the CLI's ``--model``/``--weights``).
        dtype: network precision, ``"float32"``, ``"float16"``/``"fp16"`` or ``"bfloat16"``/``"bf16"``;
            None: float16 on CUDA, float32 elsewhere (VAEs may stay float32).
        device: where the networks run (default CUDA when available, else the CPU).
        cpu_offload: keep networks on the CPU, moving each to ``device`` only while it runs.
        vae_tiling: encode and decode with a tiled VAE (large frames, less memory).
        seed: a fixed seed reproduces a result (each call starts from it).
        generator: draw from this generator instead of ``seed`` (its state advances across calls).
        steps: denoising steps of the full schedule (None: the model's own default).
        guidance: classifier-free guidance scale (<= 1 turns it off; None: the model's default).
        progress: show the denoising progress bar.
        callback: ``callback(step, total, latents)`` after every denoising step.
    """

    model: str | os.PathLike | None = option(None, shared=True)
    dtype: str | torch.dtype | None = option(None, shared=True)
    device: str | torch.device | None = option(None, shared=True)
    cpu_offload: bool = option(False, shared=True)
    vae_tiling: bool = option(False, shared=True)
    seed: int | None = option(0, shared=True)
    generator: torch.Generator | None = option(None)
    steps: int | None = option(None, shared=True)
    guidance: float | None = option(None, shared=True)
    progress: bool = option(False, shared=True)
    callback: Callback | None = option(None)

    ALIASES: ClassVar[Mapping[str, str]] = {"weights": "model"}

    def __post_init__(self) -> None:
        if self.steps is not None and (int(self.steps) != self.steps or int(self.steps) < 1):
            raise InvalidInputError(f"steps must be a positive integer, got {self.steps!r}")
        if self.guidance is not None and not math.isfinite(float(self.guidance)):
            raise InvalidInputError(f"guidance must be a finite number, got {self.guidance!r}")
        if self.seed is not None and int(self.seed) != self.seed:
            raise InvalidInputError(f"seed must be an integer, got {self.seed!r}")
        normalised = {
            "dtype": None if self.dtype is None else resolve_dtype(self.dtype),
            "device": resolve_device(self.device),
            "steps": None if self.steps is None else int(self.steps),
            "guidance": None if self.guidance is None else float(self.guidance),
            "seed": None if self.seed is None else int(self.seed),
            "cpu_offload": bool(self.cpu_offload), "vae_tiling": bool(self.vae_tiling), "progress": bool(self.progress),
        }
        for name, value in normalised.items():
            object.__setattr__(self, name, value)  # frozen: normalise once, here

    def torch_generator(self) -> torch.Generator:
        """The generator one call draws from: ``generator`` if given, else a CPU generator seeded with ``seed``
        (a fresh random seed when ``seed`` is None). CPU draws give the same noise on every device."""
        if self.generator is not None:
            return self.generator
        made = torch.Generator(device="cpu")
        return made.manual_seed(self.seed) if self.seed is not None else made.manual_seed(int(torch.seed()) % 2**63)

    def resolved_dtype(self) -> torch.dtype:
        """``dtype``, else float16 on CUDA and float32 elsewhere."""
        if self.dtype is not None:
            return self.dtype  # type: ignore[return-value]
        return torch.float16 if torch.device(self.device).type == "cuda" else torch.float32
