"""motionkit: image-to-video with explicit, editable motion.

Predict where every pixel of an image goes (a :class:`MotionField`), look at it, edit it,
then render it into a :class:`Clip`, with a classical backend that needs no weights or the
learned Motion-I2V backend (Shi et al., 2024).

Example:
    >>> import motionkit as mk
    >>> clip = mk.animate("cat.png", trajectories=[mk.Trajectory.line((120, 80), (160, 70), frames=16)])  # doctest: +SKIP
    >>> clip.write("cat.mp4")  # doctest: +SKIP
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from motionkit import errors, registry
from motionkit.components import FlowEstimator, FrameRenderer, MotionPredictor, Renderer, WindowRenderer


def _version() -> str:
    """The installed distribution's version (pyproject.toml's, the one number); a marked fallback when not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("motionkit")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


__version__ = _version()

# The value objects and verbs import torch and friends; load them on first touch so that
# `motionkit --help` and `import motionkit.errors` stay fast.
_LAZY = {
    "Clip": "motionkit.clip",
    "MotionField": "motionkit.motion",
    "Trajectory": "motionkit.trajectory",
    "RegionMask": "motionkit.mask",
    "ObjectRegion": "motionkit.mask",
    "MotionSpec": "motionkit.spec",
    "LearnedOptions": "motionkit.learned",
    "animate": "motionkit.verbs.image_to_video",
    "translate": "motionkit.verbs.video_to_video",
    "predict_motion": "motionkit.verbs.image_to_video",
    "render": "motionkit.verbs.image_to_video",
    "preview": "motionkit.verbs.preview",
    "Previewer": "motionkit.verbs.preview",
    "estimate_motion": "motionkit.verbs.video_to_video",
    "check_output": "motionkit.verbs.outputs",
    "parse_job": "motionkit.verbs.jobs",
    "run_job": "motionkit.verbs.jobs",
    "AnimateJob": "motionkit.verbs.jobs",
    "RenderJob": "motionkit.verbs.jobs",
    "TranslateJob": "motionkit.verbs.jobs",
    "CheckJob": "motionkit.verbs.jobs",
    "check": "motionkit.verbs.check",
    "run_batch": "motionkit.batch:run",
    "BatchSummary": "motionkit.batch:Summary",
    "AdherenceReport": "motionkit.spec.report",
    "RunManifest": "motionkit.spec.manifest",
    "SceneCutWarning": "motionkit.clip.translation",
    # Verbs of the tooling around the model, for the CLI and scripts alike ("module:attribute").
    "convert_official": "motionkit.models.motion_i2v.convert",
    "train": "motionkit.training",
    "TrainConfig": "motionkit.training",
    "TRAINING_TASKS": "motionkit.training:TASKS",
    "run_demo": "motionkit.demo",
}

__all__ = [
    "Clip",
    "MotionField",
    "Trajectory",
    "RegionMask",
    "ObjectRegion",
    "MotionSpec",
    "Renderer",
    "FrameRenderer",
    "WindowRenderer",
    "MotionPredictor",
    "FlowEstimator",
    "LearnedOptions",
    "animate",
    "translate",
    "predict_motion",
    "render",
    "preview",
    "Previewer",
    "estimate_motion",
    "check_output",
    "parse_job",
    "run_job",
    "AnimateJob",
    "RenderJob",
    "TranslateJob",
    "CheckJob",
    "check",
    "run_batch",
    "BatchSummary",
    "AdherenceReport",
    "RunManifest",
    "SceneCutWarning",
    "convert_official",
    "train",
    "TrainConfig",
    "TRAINING_TASKS",
    "run_demo",
    "registry",
    "errors",
]

if TYPE_CHECKING:
    from motionkit.demo import run_demo
    from motionkit.learned import LearnedOptions
    from motionkit.models.motion_i2v.convert import convert_official
    from motionkit.training import TASKS as TRAINING_TASKS
    from motionkit.training import TrainConfig, train
    from motionkit.verbs.image_to_video import animate, predict_motion, render
    from motionkit.verbs.jobs import AnimateJob, CheckJob, RenderJob, TranslateJob, parse_job, run_job
    from motionkit.verbs.outputs import check_output
    from motionkit.verbs.preview import Previewer, preview
    from motionkit.verbs.video_to_video import estimate_motion, translate
    from motionkit.verbs.check import check
    from motionkit.batch import Summary as BatchSummary
    from motionkit.batch import run as run_batch
    from motionkit.spec.manifest import RunManifest
    from motionkit.spec.report import AdherenceReport
    from motionkit.clip import Clip
    from motionkit.clip.translation import SceneCutWarning
    from motionkit.mask import ObjectRegion, RegionMask
    from motionkit.motion import MotionField
    from motionkit.spec import MotionSpec
    from motionkit.trajectory import Trajectory


def __getattr__(name: str):
    if name in _LAZY:
        module, _, attribute = _LAZY[name].partition(":")
        value = getattr(import_module(module), attribute or name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'motionkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
