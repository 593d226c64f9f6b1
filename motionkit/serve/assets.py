"""The service's uploaded files: sniffed, size-limited, named by the server (never by the client).

An asset id is ``<32 hex digits>.<extension>``; :meth:`AssetStore.path` accepts nothing else,
so no client-given text (``../``, absolute paths, odd names) ever reaches the filesystem.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from motionkit.errors import InvalidInputError, MediaReadError, TooLargeError
from motionkit.io.atomic import atomic_path

ID_PATTERN = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp|bmp|gif|mp4|webm|mov|avi|mkv)$")
IMAGE_KINDS = frozenset({"png", "jpg", "webp", "bmp", "gif"})


class UnknownAssetError(InvalidInputError, KeyError):
    """An asset id the service does not hold (HTTP 404)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def sniff(head: bytes) -> str | None:
    """The media kind of a file from its first bytes (at least 16): an extension, or None when not media."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(b"BM"):
        return "bmp"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[4:8] == b"ftyp":
        return "mov" if head[8:10] == b"qt" else "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "mkv" if b"matroska" in head[:64] else "webm"
    return None


class AssetStore:
    """Files under ``root``, named ``uuid.ext`` by :meth:`add`, found again by :meth:`path`."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes

    def add(self, data: bytes) -> str:
        """Store ``data`` as a new asset and return its id.

        Raises:
            TooLargeError: more than ``max_bytes``.
            MediaReadError: not an image or video motionkit reads (the content decides, not the name).
        """
        if len(data) > self.max_bytes:
            raise TooLargeError(f"upload of {len(data)} bytes is over the limit of {self.max_bytes} bytes (--max-upload-mb)")
        kind = sniff(data[:64])
        if kind is None:
            raise MediaReadError("the upload is not an image or a video (png, jpeg, webp, bmp, gif, mp4, mov, webm, mkv, avi)")
        if kind in IMAGE_KINDS:
            import cv2
            import numpy as np

            if cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is None and kind != "gif":
                raise MediaReadError(f"the upload starts like a {kind} image but does not decode as one")
        asset = f"{uuid.uuid4().hex}.{kind}"
        with atomic_path(self.root / asset) as tmp:
            tmp.write_bytes(data)
        return asset

    def path(self, asset: object) -> Path:
        """The file of ``asset``.

        Raises:
            InvalidInputError: not an asset id (a path, ``../``, anything but ``uuid.ext``).
            UnknownAssetError: a well-formed id the service does not hold.
        """
        if not isinstance(asset, str) or not ID_PATTERN.match(asset):
            raise InvalidInputError(f"{str(asset)[:80]!r} is not an asset id (ids look like '<32 hex digits>.png'; upload to /api/assets)")
        found = self.root / asset
        if not found.is_file():
            raise UnknownAssetError(f"no asset {asset!r} on this server")
        return found

    def is_image(self, asset: str) -> bool:
        """Whether ``asset`` is a still image (not a video)."""
        return asset.rsplit(".", 1)[-1] in IMAGE_KINDS

    def first_frame(self, asset: str) -> Path:
        """Frame 0 of ``asset`` as a PNG file (an image's own file when it is a PNG); made once, then kept.

        Raises:
            MediaReadError: the video has no frame that decodes.
        """
        path = self.path(asset)
        if asset.endswith(".png"):
            return path
        frame = self.root / f"{asset}.frame0.png"  # never an asset id: :meth:`path` cannot reach it
        if not frame.is_file():
            import motionkit
            from motionkit.io.image import save_image

            save_image(frame, motionkit.Clip.read(path).frame(0))  # written atomically
        return frame

    def info(self, asset: str) -> dict[str, object]:
        """``{"id", "kind", "size": [H, W], "frames", "fps"}``; ``fps`` is None for an image."""
        import motionkit

        path = self.path(asset)
        if self.is_image(asset):
            import cv2

            picture = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if picture is None:
                raise MediaReadError(f"asset {asset!r} no longer decodes as an image")
            return {"id": asset, "kind": "image", "size": list(picture.shape[:2]), "frames": 1, "fps": None}
        clip = motionkit.Clip.read(path)
        return {"id": asset, "kind": "video", "size": list(clip.size), "frames": len(clip), "fps": clip.fps}
