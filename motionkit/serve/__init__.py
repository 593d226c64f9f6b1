"""``motionkit serve``: an HTTP API (uploads, live previews, jobs) and the browser motion editor at ``/``.

Needs the ``serve`` extra (``pip install "motionkit[serve]"``: FastAPI, uvicorn, python-multipart).

Example:
    >>> from motionkit.serve import create_app          # doctest: +SKIP
    >>> app = create_app("data", workers=2, queue=8)     # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motionkit.errors import InvalidInputError

__all__ = ["LOCAL_HOSTS", "create_app", "run"]

#: Hosts the service may bind without a token.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def create_app(data: str | Path = "motionkit-data", **options: Any) -> Any:
    """The FastAPI application (see :func:`motionkit.serve.app.create_app` for the options)."""
    try:
        from motionkit.serve.app import create_app as build
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise InvalidInputError(f"motionkit serve needs the serve extra: pip install 'motionkit[serve]' ({error})") from None
    return build(data, **options)


def run(host: str = "127.0.0.1", port: int = 8000, *, data: str | Path = "motionkit-data", token: str | None = None,
        workers: int = 1, queue: int = 8, max_upload_mb: float = 200.0) -> None:
    """Serve the API and the editor with uvicorn until interrupted.

    Raises:
        InvalidInputError: a host other than the local one without ``token``, or bad sizes.
    """
    if host not in LOCAL_HOSTS and not token:
        raise InvalidInputError(f"serving on {host!r} makes the service reachable from other machines: give --token")
    import uvicorn

    app = create_app(data, token=token, workers=workers, queue=queue, max_upload_mb=max_upload_mb)
    uvicorn.run(app, host=host, port=port, log_level="info")
