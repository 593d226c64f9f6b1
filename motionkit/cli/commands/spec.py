"""``motionkit spec``: the motion document's tools (``schema`` prints its JSON Schema)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

import motionkit as mk
from motionkit.errors import InvalidInputError

spec_app = typer.Typer(help="The motion spec: its JSON Schema, and peers' track files in and out.", no_args_is_help=True,
                       rich_markup_mode=None)
FORMAT_HELP = "Track format: wan-move, ati, tora, sg-i2v, dragnuwa, mofa-video or motion-i2v."


def parse_size(text: str) -> tuple[int, int]:
    """``"WxH"`` -> ``(H, W)``."""
    width, sep, height = text.lower().partition("x")
    try:
        if not sep:
            raise ValueError
        return int(height), int(width)
    except ValueError:
        raise InvalidInputError(f"--size {text!r}: expected WIDTHxHEIGHT in pixels, e.g. 832x480") from None


@spec_app.command("import", epilog="Example: motionkit spec import cat_tracks.npy --format wan-move --size 832x480 -o cat.json")
def import_(
    file: Path = typer.Argument(..., help="The peer's track file."),
    format: str = typer.Option(..., "--format", help=FORMAT_HELP),
    size: Optional[str] = typer.Option(None, "--size", help="WxH: the size of the picture the file's pixels are of (default: the project's video size)."),
    output: Path = typer.Option(..., "--output", "-o", help="The spec (JSON) to write."),
    fps: Optional[float] = typer.Option(None, "--fps", help="Frames per second of the shot (default: the project's own, e.g. ATI's 16, else 8)."),
) -> None:
    """Read a peer's point tracks into a motion spec."""
    spec = mk.MotionSpec.import_tracks(file, format, None if size is None else parse_size(size), fps=fps)
    spec.save(output)
    typer.echo(f"wrote {output} ({len(spec.trajectories)} tracks, {spec.frames} frames)", err=True)


@spec_app.command("export", epilog="Example: motionkit spec export cat.json --format wan-move --size 832x480 -o cat_tracks.npy")
def export(
    spec: Path = typer.Argument(..., help="The motion spec (JSON)."),
    format: str = typer.Option(..., "--format", help=FORMAT_HELP),
    output: Path = typer.Option(..., "--output", "-o", help="The track file to write."),
    size: Optional[str] = typer.Option(None, "--size", help="WxH of the picture to write pixels for (default: the spec's reference size)."),
) -> None:
    """Write a motion spec's trajectories as a peer's point tracks."""
    mk.MotionSpec.load(spec).export_tracks(output, format, None if size is None else parse_size(size))
    typer.echo(f"wrote {output}", err=True)


@spec_app.command("schema", epilog="Example: motionkit spec schema > motionkit-spec.schema.json")
def schema() -> None:
    """Print the JSON Schema of a motion spec to stdout."""
    typer.echo(json.dumps(mk.MotionSpec.json_schema(), indent=1))


def register(app: typer.Typer) -> None:
    """Add the ``spec`` group to ``app``."""
    app.add_typer(spec_app, name="spec")
