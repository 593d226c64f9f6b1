"""``Job``: one unit of work as a document, the one model the HTTP service and batch runs share.

A job names its inputs the way the command line does (``image``, ``spec``, ``motion``,
``video``, ``edited``) and carries the options of its verb. Inputs are strings: file paths for
a batch (relative ones resolved against the JOBS file) or asset ids for the service; each
caller maps them to files with :meth:`JobBase.resolved` before :func:`run_job` runs the job.
The service's ``{"kind": "animate", "asset": ID, ...}`` reads ``asset`` as ``image``.

Example:
    >>> job = parse_job({"id": "cat", "kind": "animate", "image": "cat.png", "spec": "cat_spec.json"})
    >>> job.kind, job.image, job.output_name
    ('animate', 'cat.png', 'output.mp4')
    >>> parse_job({"kind": "check", "video": "a.mp4", "spec": "s.json"}).output_name
    'report.json'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import pydantic

from motionkit.errors import InvalidInputError
from motionkit.spec import MotionSpec

Kind = Literal["animate", "render", "translate", "check"]


class JobBase(pydantic.BaseModel):
    """What every job has: an optional ``id``, its ``kind`` and the options of its verb."""

    model_config = pydantic.ConfigDict(extra="forbid", populate_by_name=True)

    id: str | None = None
    """A name for the job (a batch defaults it to the line number; the service assigns its own)."""
    options: dict[str, Any] = pydantic.Field(default_factory=dict)
    """Keyword options of the verb (e.g. ``{"fps": 12}``, ``{"estimator": "farneback"}``)."""

    #: The job's input fields that name files (paths or asset ids).
    file_fields: ClassVar[tuple[str, ...]] = ()

    @property
    def output_name(self) -> str:
        """The file name of the job's main output: ``output.mp4``, or ``report.json`` for ``check``."""
        return "output.mp4"

    def inputs(self) -> dict[str, str]:
        """The job's file inputs by field name (a spec given inline is not a file)."""
        found = {name: getattr(self, name) for name in self.file_fields}
        return {name: value for name, value in found.items() if isinstance(value, str)}

    def resolved(self, locate: Callable[[str], str | os.PathLike]) -> JobBase:
        """A copy with every file input (and a spec given by path) mapped through ``locate``.

        ``locate`` turns a path relative to a JOBS file, or a service's asset id, into the
        file it names, raising a :mod:`motionkit.errors` error for one it does not know.
        """
        return self.model_copy(update={name: str(locate(value)) for name, value in self.inputs().items()})


class AnimateJob(JobBase):
    """Animate ``image`` along ``spec`` (``motionkit animate IMAGE --spec SPEC``)."""

    kind: Literal["animate"]
    image: str = pydantic.Field(validation_alias=pydantic.AliasChoices("image", "asset"))
    spec: MotionSpec | str
    """The motion document, inline or a path."""
    file_fields: ClassVar[tuple[str, ...]] = ("image", "spec")

    def motion_spec(self) -> MotionSpec:
        """The motion document: the inline one, or the one the ``spec`` path holds (loaded now)."""
        return _spec(self.spec)


class RenderJob(JobBase):
    """Render ``image`` along a saved field ``motion`` (``motionkit render IMAGE MOTION``)."""

    kind: Literal["render"]
    image: str = pydantic.Field(validation_alias=pydantic.AliasChoices("image", "asset"))
    motion: str
    file_fields: ClassVar[tuple[str, ...]] = ("image", "motion")


class TranslateJob(JobBase):
    """Carry the edit of ``edited`` (frame 0 of ``video``, edited) through ``video``."""

    kind: Literal["translate"]
    video: str
    edited: str
    file_fields: ClassVar[tuple[str, ...]] = ("video", "edited")


class CheckJob(JobBase):
    """Measure how closely ``video`` follows ``spec`` (``motionkit check VIDEO --spec SPEC``)."""

    kind: Literal["check"]
    video: str
    spec: MotionSpec | str
    file_fields: ClassVar[tuple[str, ...]] = ("video", "spec")

    @property
    def output_name(self) -> str:
        return "report.json"


Job = Annotated[AnimateJob | RenderJob | TranslateJob | CheckJob, pydantic.Field(discriminator="kind")]
"""Any job, told apart by its ``kind``."""

_ADAPTER: pydantic.TypeAdapter = pydantic.TypeAdapter(Job)


def parse_job(data: Mapping[str, Any] | str | bytes) -> JobBase:
    """A job from a mapping or JSON text.

    Raises:
        InvalidInputError: not a job: an unknown ``kind``, a missing input, an unknown field;
            the message names the field.
    """
    try:
        if isinstance(data, (str, bytes)):
            return _ADAPTER.validate_json(data)
        return _ADAPTER.validate_python(dict(data))
    except pydantic.ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'job'}: {e['msg']}" for e in error.errors(include_url=False)
        )
        raise InvalidInputError(f"invalid job: {problems}") from None


def _spec(value: MotionSpec | str) -> MotionSpec:
    return value if isinstance(value, MotionSpec) else MotionSpec.load(value)


#: The share of an ``animate`` job's progress given to compiling the spec (the rest is the render).
COMPILE_SHARE = 0.15


class _Progress:
    """A monotone fraction-done reporter in ``[0, 1]`` over a job's stages (never goes down)."""

    def __init__(self, report: Callable[[float], None] | None) -> None:
        self.report = report
        self.last = 0.0

    def __call__(self, fraction: float) -> None:
        fraction = min(max(float(fraction), self.last), 1.0)
        if self.report is not None and fraction > self.last:
            self.last = fraction
            self.report(fraction)

    def frames(self, start: float, end: float) -> Callable[[int, int | None], None]:
        """A :meth:`Clip.write` ``progress`` callable mapping frames written onto ``start .. end``."""
        def written(done: int, total: int | None) -> None:
            if total:
                self(start + (end - start) * done / total)
        return written


def run_job(job: JobBase, output: str | os.PathLike, *, progress: bool | Callable[[float], None] = False) -> Path:
    """Run a resolved ``job`` (file inputs are paths) and write its main output to ``output``, atomically.

    The same verbs as the command line: ``animate`` is :func:`motionkit.animate` with
    ``spec=`` and the job's ``options`` as its keywords (``backend``, ``renderer``, ``fps``,
    ``predictor_options`` ...; the spec's backend hints apply where they do not say); ``render`` renders a
    saved field; ``translate`` carries the edit; ``check`` writes the adherence report (JSON).

    Args:
        job: a job whose file inputs are paths (:meth:`JobBase.resolved`).
        output: the main output's path.
        progress: ``True`` shows tqdm bars; a callable receives the fraction done in ``[0, 1]``,
            monotone: for ``animate`` the compile is the first ``COMPILE_SHARE``, then one step
            per frame written; ``render`` and ``translate`` step per frame written; ``check``
            reports 1 when its report is saved.

    Returns:
        ``output`` as a :class:`~pathlib.Path`.

    Raises:
        motionkit.errors.MotionkitError: whatever the verb raises for bad inputs.

    Example:
        >>> seen = []
        >>> run_job(job, "out.mp4", progress=seen.append)  # doctest: +SKIP
        >>> seen[-1]  # doctest: +SKIP
        1.0
    """
    from motionkit.motion import MotionField
    from motionkit.verbs.check import check
    from motionkit.verbs.image_to_video import animate, render
    from motionkit.verbs.video_to_video import translate

    target = Path(output)
    options = dict(job.options)
    bar = progress is True
    step = _Progress(progress if callable(progress) else None)
    step(0.0)
    if isinstance(job, CheckJob):
        check(job.video, _spec(job.spec), **options).save(target)
        step(1.0)
        return target
    written_from = 0.0  # the share of the progress reached when the frames start coming
    if isinstance(job, AnimateJob):
        # The same verb as ``motionkit animate IMAGE --spec``: the spec's backend hints, camera
        # depth and render mask are read there, and the job's options are that verb's keywords.
        clip = animate(job.image, spec=_spec(job.spec), **options)
        written_from = COMPILE_SHARE
        step(written_from)
    elif isinstance(job, RenderJob):
        fps = options.pop("fps", 8.0)
        clip = render(job.image, MotionField.load(job.motion), fps=fps, **options)
    elif isinstance(job, TranslateJob):
        clip = translate(job.video, job.edited, **options)
    else:  # pragma: no cover - the discriminated union admits no other kind
        raise InvalidInputError(f"unknown job kind {job.kind!r}")
    clip.write(target, progress=step.frames(written_from, 1.0) if step.report else bar)
    step(1.0)
    return target
