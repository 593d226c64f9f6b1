"""``motionkit motion``: a video's motion from frame 0, saved as a field (``mk.estimate_motion``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

import motionkit as mk
from motionkit.cli.options import EstimatorOption, say

EXAMPLE = "Example: motionkit motion walk.mp4 -o walk_motion.npz --visualize walk_flow.mp4"


def motion(
    video: Path = typer.Argument(..., help="The video whose motion to estimate."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to save the motion field (.npz)."),
    estimator: str = EstimatorOption,
    visualize: Optional[Path] = typer.Option(None, "--visualize", help="Also write the motion as a colour-coded video."),
) -> None:
    """Estimate a video's motion from its frame 0 to every frame and save it as a MotionField."""
    clip = mk.Clip.read(video)
    field = mk.estimate_motion(clip, estimator=estimator)
    field.save(output)
    say(f"wrote {output} ({field.frames} frames, {field.size[1]}x{field.size[0]})")
    if visualize is not None:
        field.visualize(style="color", fps=clip.fps).write(visualize, progress=True)
        say(f"wrote {visualize}")


def register(app: typer.Typer) -> None:
    """Add ``motion`` to ``app``."""
    app.command(epilog=EXAMPLE)(motion)
