"""``motionkit convert-official``: the official weights into motionkit's layout (``mk.convert_official``)."""

from __future__ import annotations

from pathlib import Path

import typer

import motionkit as mk

EXAMPLE = "Example: motionkit convert-official ./Motion-I2V ./motion-i2v-converted"


def convert_official(
    source: Path = typer.Argument(..., help="The official release folder (holding models/stage1 and models/stage2)."),
    destination: Path = typer.Argument(..., help="Where to write motionkit's safetensors layout."),
) -> None:
    """Convert the official Motion-I2V weights (wangfuyun/Motion-I2V) into motionkit's layout."""
    mk.convert_official(source, destination, progress=True)
    typer.echo(f"wrote {destination}")


def register(app: typer.Typer) -> None:
    """Add ``convert-official`` to ``app``."""
    app.command("convert-official", epilog=EXAMPLE)(convert_official)
