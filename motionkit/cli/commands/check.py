"""``motionkit check``: how closely a video followed a motion spec (``mk.check``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

import motionkit as mk
from motionkit.cli.options import EstimatorOption, say
from motionkit.cli.parse import OPTION_FORM, parse_options

EXAMPLE = "Example: motionkit check cat.mp4 --spec cat.json --report cat_report.json --max-epe 2"
#: Exit status when a track's error is over --max-epe (1 is a motionkit error, 2 a usage error).
OVER_LIMIT = 3


def check(
    video: Path = typer.Argument(..., help="The video to score (any video: motionkit's or another project's)."),
    spec: Path = typer.Option(..., "--spec", help="The motion spec (JSON) the video should follow."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write the adherence report (JSON)."),
    max_epe: Optional[float] = typer.Option(None, "--max-epe", min=0.0, help="Exit with status 3 when a track's mean or final error exceeds PX pixels."),
    overlay: Optional[Path] = typer.Option(None, "--overlay", help="Write a video with the requested (green) and achieved (red) tracks."),
    estimator: str = EstimatorOption,
    estimator_option: list[str] = typer.Option([], "--estimator-option", help=f"An option of the flow estimator: {OPTION_FORM} Repeatable."),
    refine: bool = typer.Option(True, "--refine/--no-refine", help="Refine each tracked point with a small Lucas-Kanade step against frame 0 (default on)."),
    depth: Optional[Path] = typer.Option(None, "--depth", help="The depth map the video was rendered with, to measure the spec's 3D camera moves (.npy depths or an image, white = near)."),
) -> None:
    """Re-track VIDEO and report, per track of the spec, the end-point error in pixels of the video."""
    options = parse_options(estimator_option, "--estimator-option")
    mk.registry.check_options(options, labels={k: f"--estimator-option {k}" for k in options}, flow_estimator=estimator)
    adherence = mk.check(video, mk.MotionSpec.load(spec), estimator=estimator, overlay=overlay, refine=refine, depth=depth, **options)
    typer.echo(adherence.table())
    if report is not None:
        adherence.save(report)
        say(f"wrote {report}")
    if overlay is not None:
        say(f"wrote {overlay}")
    if max_epe is not None and adherence.worst_epe > max_epe:
        say(f"a track is {adherence.worst_epe:.2f} px off, over --max-epe {max_epe:g}")
        raise typer.Exit(OVER_LIMIT)


def register(app: typer.Typer) -> None:
    """Add ``check`` to ``app``."""
    app.command(epilog=EXAMPLE)(check)
