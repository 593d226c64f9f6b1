"""One exception hierarchy for everything motionkit refuses.

Every error says what was wrong, what was expected and, where it helps, what to do.
They subclass the builtin that a Python user would reach for (``ValueError``,
``FileNotFoundError``, ...) so generic ``except`` clauses keep working.
"""

from __future__ import annotations


class MotionkitError(Exception):
    """Base class of every error motionkit raises on purpose."""


class InvalidInputError(MotionkitError, ValueError):
    """An argument has the wrong type, range or layout."""


class ShapeMismatchError(InvalidInputError):
    """Two inputs that must agree in size (image, mask, field, frames) do not."""


class NonFiniteError(InvalidInputError):
    """A motion field, trajectory or image holds NaN or infinite values."""


class OutOfBoundsError(InvalidInputError):
    """A coordinate (e.g. a trajectory's start) lies outside the image."""


class TooLargeError(InvalidInputError):
    """A requested size or frame count is beyond what is sensible; refused before allocating."""


class UnknownComponentError(MotionkitError, KeyError):
    """No registered predictor, renderer or flow estimator has the requested name."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0]) if self.args else ""


class PluginLoadError(MotionkitError, ImportError):
    """A third-party plugin's entry point could not be imported."""


class MediaReadError(MotionkitError, OSError):
    """An image or video file could not be read (missing, truncated, corrupt, empty)."""


class MediaWriteError(MotionkitError, OSError):
    """An output could not be written (unwritable folder, full disk, unsupported format)."""


class MotionFileError(MotionkitError, OSError):
    """A saved motion field (``.npz`` / ``.flo``) or JSON document is unreadable or malformed."""


class WeightsNotFoundError(MotionkitError, FileNotFoundError):
    """Model weights expected on disk are missing; the message names the path and how to get it."""


class CheckpointMismatchError(MotionkitError, ValueError):
    """A checkpoint's keys or shapes do not match the model it is loaded into."""


class UnusedOptionError(InvalidInputError):
    """An option that no component of the chosen pipeline uses (it would do nothing).

    Attributes:
        options: the option names refused.
        chosen: the pipeline, ``{kind: name}``.
        users: per option, the registered components (labels) that would use it.
    """

    def __init__(self, message: str, *, options: tuple[str, ...] = (), chosen: dict[str, str] | None = None,
                 users: dict[str, tuple[str, ...]] | None = None) -> None:
        super().__init__(message)
        self.options, self.chosen, self.users = tuple(options), dict(chosen or {}), dict(users or {})


class MotionkitWarning(UserWarning):
    """Something motionkit did that the user probably did not mean (a drag leaving the frame, a still video).

    The command line prints these as ``motionkit: warning: ...``; in Python they are ordinary
    :mod:`warnings` (filter them with ``warnings.simplefilter("error", MotionkitWarning)``).
    """
