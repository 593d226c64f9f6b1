"""Documents as JSON files: one atomic write and one read-with-a-clear-error for the spec and the run manifest.

``MotionSpec.save`` / ``load`` and ``RunManifest.save`` / ``load`` are these two functions with
their own parser, so both write all-or-nothing and fail on a bad file with one
:class:`~motionkit.errors.MotionFileError` naming the file and, for an invalid document, every
problem's place in it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pydantic

from motionkit.errors import MotionFileError
from motionkit.spec.document import validating, validation_message

T = TypeVar("T")


def save_json(text: str, path: str | os.PathLike) -> Path:
    """Write a JSON document's ``text`` (and a final newline) to ``path``, atomically."""
    from motionkit.io.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return path


def load_json(path: str | os.PathLike, what: str, parse: Callable[[str], T]) -> T:
    """``parse`` the text of the file at ``path``, a ``what`` (``"motion spec"``).

    Raises:
        MotionFileError: the file cannot be read as UTF-8 text; or ``parse`` refused it (its
            :class:`MotionFileError`, or pydantic's ``ValidationError`` with each problem's
            place), prefixed with the path.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MotionFileError(f"cannot read {what} {path}: {exc}") from None
    try:
        with validating():
            return parse(text)
    except MotionFileError as exc:
        raise MotionFileError(f"{path}: {exc}") from None
    except pydantic.ValidationError as exc:
        raise MotionFileError(f"{path} is not a valid {what}: {validation_message(exc)}") from None
