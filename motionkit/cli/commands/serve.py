"""``motionkit serve``: the HTTP API and the browser motion editor (``motionkit.serve``)."""

from __future__ import annotations

from pathlib import Path

import typer


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind; any but the local one needs --token."),
    port: int = typer.Option(8000, help="TCP port."),
    workers: int = typer.Option(1, min=1, help="Jobs run at once (the worker pool's size)."),
    queue: int = typer.Option(8, min=1, help="Pending jobs accepted; one more answers 429."),
    data: Path = typer.Option(Path("motionkit-data"), help="Folder of job records (SQLite), uploads and results."),
    token: str | None = typer.Option(None, help="Bearer token every route but /api/health requires."),
    max_upload_mb: float = typer.Option(200.0, min=0.001, help="Largest upload, megabytes."),
) -> None:
    """Serve the HTTP API and the browser motion editor at http://HOST:PORT/.

    Example: motionkit serve --port 8000 --data ./motionkit-data
    """
    import motionkit.serve

    motionkit.serve.run(host, port, data=data, token=token, workers=workers, queue=queue, max_upload_mb=max_upload_mb)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""
    app.command()(serve)
