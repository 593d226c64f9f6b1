"""``motionkit demo``: the bundled cat photo, animated with a preset (``mk.run_demo``)."""

from __future__ import annotations

from pathlib import Path

import typer

import motionkit as mk

EXAMPLE = "Example: motionkit demo -o motionkit-demo"


def demo(output: Path = typer.Option(Path("motionkit-demo"), "--output", "-o", help="Folder for the demo's files.")) -> None:
    """Animate the bundled cat photo with a preset drag and camera move; write video, motion preview and a side-by-side GIF."""
    report = mk.run_demo(output, progress=True)
    for path in report.files:
        typer.echo(f"wrote {path}")
    typer.echo(f"done in {report.seconds:.1f} s")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command(epilog=EXAMPLE)(demo)
