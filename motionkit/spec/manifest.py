"""``RunManifest``: what a render was made from, so it can be checked and made again.

A manifest holds the spec, the backend and its options, the seed, the versions of motionkit
and the libraries that compute pixels, hashes of the input image, of any weight files and
depth map, and of the output. ``motionkit animate --manifest PATH`` writes one;
``motionkit rerun PATH`` renders it again and compares the output's hash.

Example:
    >>> manifest = RunManifest.load("cat.manifest.json")  # doctest: +SKIP
    >>> manifest.output.sha256  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import pydantic

from motionkit.spec.files import load_json, save_json
from motionkit.spec.model import MotionSpec

#: The libraries whose versions can change a render's pixels.
PACKAGES = ("torch", "numpy", "opencv-python-headless", "scipy", "imageio", "imageio-ffmpeg", "diffusers", "pydantic")


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, or of every file of a folder (sorted by relative path, names included)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def environment() -> dict[str, str]:
    """Python, the platform, motionkit and :data:`PACKAGES` versions (``"absent"`` when not installed)."""
    import motionkit

    found = {"python": sys.version.split()[0], "platform": platform.platform(), "motionkit": motionkit.__version__}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


class FileRecord(pydantic.BaseModel):
    """A file (or folder) and the SHA-256 of its contents."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    path: str
    sha256: str

    @classmethod
    def of(cls, path: str | os.PathLike) -> FileRecord:
        """Hash ``path`` now."""
        return cls(path=os.fspath(path), sha256=file_sha256(path))

    def matches(self) -> bool:
        """Whether the file at :attr:`path` still has this hash."""
        return Path(self.path).exists() and file_sha256(self.path) == self.sha256


class RunManifest(pydantic.BaseModel):
    """One render: its inputs, settings, environment and output, by content hash.

    Attributes:
        manifest_version: 1.
        command: the command that rendered: ``"animate"`` (an image along a spec), ``"render"``
            (an image along a saved motion field) or ``"translate"`` (a video's edited keyframes
            carried through it).
        image: the input image (``translate``: None; its inputs are ``video`` and ``keyframes``).
        video: ``translate``'s source video, hashed.
        keyframes: ``translate``'s edited frames by 0-based frame index, hashed.
        estimator: ``translate``'s flow estimator.
        carry_across_cuts, allow_damaged: ``translate``'s flags of those names.
        prompt: ``translate``'s prompt for a learned renderer (``animate``'s is in the spec).
        output: the rendered video (or frame folder).
        spec: the motion spec rendered (flags already folded in); for ``render``, the spec its
            ``--spec`` named, if any.
        motion: ``render``'s motion field file, hashed.
        brush: ``render``'s mask image, hashed, if one was given (``animate``'s is in the spec).
        fps: ``render``'s frame rate (``animate``'s is the spec's).
        renderer_options: ``render``'s ``--renderer-option`` values (``animate``'s are in the spec's hints).
        backend, renderer: registered names.
        predictor: the predictor named in place of the backend's (None: the backend's own).
        seed, steps: the learned backends' sampling settings (None: their defaults).
        weights: the weight files or folder used, hashed (None for the classical backend).
        depth: the depth map of the camera's 3D moves, hashed, if one was given.
        environment: versions (see :func:`environment`).
    """

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    manifest_version: Literal[1] = 1
    command: Literal["animate", "render", "translate"] = "animate"
    image: FileRecord | None = None
    output: FileRecord
    spec: MotionSpec | None = None
    motion: FileRecord | None = None
    brush: FileRecord | None = None
    fps: float | None = None
    renderer_options: dict[str, pydantic.JsonValue] = pydantic.Field(default_factory=dict)
    backend: str
    renderer: str
    predictor: str | None = None
    seed: int | None = None
    steps: int | None = None
    weights: FileRecord | None = None
    depth: FileRecord | None = None
    video: FileRecord | None = None
    keyframes: dict[int, FileRecord] = pydantic.Field(default_factory=dict)
    estimator: str | None = None
    carry_across_cuts: bool = False
    allow_damaged: bool = False
    prompt: str | None = None
    environment: dict[str, str]

    @pydantic.model_validator(mode="after")
    def _inputs_of_the_command(self) -> RunManifest:
        if self.command == "animate" and self.spec is None:
            raise ValueError("an animate manifest needs the spec it rendered")
        if self.command == "render" and self.motion is None:
            raise ValueError("a render manifest needs the motion field it rendered")
        if self.command in ("animate", "render") and self.image is None:
            raise ValueError(f"a {self.command} manifest needs the image it rendered")
        if self.command == "translate" and (self.video is None or not self.keyframes):
            raise ValueError("a translate manifest needs the video and the edited keyframes it carried")
        return self

    def save(self, path: str | os.PathLike) -> Path:
        """Write the manifest as JSON, atomically."""
        return save_json(self.model_dump_json(indent=1), path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> RunManifest:
        """Read a manifest; a malformed one raises :class:`MotionFileError` naming the problem's place."""
        return load_json(path, "motionkit run manifest", cls.model_validate_json)

    @staticmethod
    def current_environment() -> dict[str, str]:
        """The versions a render made now would record (see :func:`environment`)."""
        return environment()

    def changed_inputs(self) -> list[str]:
        """The recorded inputs (image, weights, depth map) whose contents are no longer what they were."""
        records = {"image": self.image, "motion field": self.motion, "brush": self.brush, "weights": self.weights,
                   "depth": self.depth, "video": self.video,
                   **{f"keyframe {index}": record for index, record in self.keyframes.items()}}
        return [f"{what} {record.path}" for what, record in records.items() if record is not None and not record.matches()]

    def same_output(self, path: str | os.PathLike) -> bool:
        """Whether ``path`` holds exactly the recorded output (same SHA-256)."""
        return Path(path).exists() and file_sha256(path) == self.output.sha256

    @classmethod
    def record(cls, *, image: Any = None, output: Any, spec: MotionSpec | None = None, backend: str, renderer: str,
               seed: int | None = None, steps: int | None = None, weights: Any = None, depth: Any = None,
               predictor: str | None = None, command: str = "animate", motion: Any = None, brush: Any = None,
               fps: float | None = None, renderer_options: dict[str, Any] | None = None, video: Any = None,
               keyframes: dict[int, Any] | None = None, estimator: str | None = None, carry_across_cuts: bool = False,
               allow_damaged: bool = False, prompt: str | None = None) -> RunManifest:
        """A manifest of a finished render, hashing its files now (``None`` inputs are not recorded)."""
        if predictor == backend_predictor(backend):
            predictor = None
        return cls(image=None if image is None else FileRecord.of(image), output=FileRecord.of(output), spec=spec,
                   backend=backend, renderer=renderer, video=None if video is None else FileRecord.of(video),
                   keyframes={int(k): FileRecord.of(v) for k, v in (keyframes or {}).items()}, estimator=estimator,
                   carry_across_cuts=carry_across_cuts, allow_damaged=allow_damaged, prompt=prompt,
                   predictor=predictor, command=command, motion=None if motion is None else FileRecord.of(motion),
                   brush=None if brush is None else FileRecord.of(brush), fps=fps, renderer_options=renderer_options or {},
                   seed=seed, steps=steps, weights=None if weights is None else FileRecord.of(weights),
                   depth=None if depth is None else FileRecord.of(depth), environment=environment())


def backend_predictor(backend: str) -> str | None:
    """The predictor of a registered backend (None for an unknown one)."""
    from motionkit import registry
    from motionkit.errors import MotionkitError

    try:
        return registry.backend(backend).predictor
    except MotionkitError:
        return None
