"""``motionkit motion``: a video's motion from frame 0, saved as a field (``mk.estimate_motion``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

import motionkit as mk
from motionkit.cli.options import EstimatorOption, say

EXAMPLE = "Example: motionkit motion walk.mp4 -o walk_motion.npz --visualize walk_flow.mp4"



def _motion_dtype(value: str) -> str:
    # Checked while parsing, so a typo fails before any work.
    if value not in ("float32", "float16"):
        raise typer.BadParameter(f"{value!r} is not one of 'float32', 'float16'")
    return value


#: ``--motion-dtype``, shared by the commands that save a motion field (``MotionField.save(dtype=)``).
MotionDtypeOption = typer.Option(
    "float32", "--motion-dtype", callback=_motion_dtype,
    help="Precision of the saved field: float32 (exact) or float16 (under half the file; within |v|/2048 px).",
)

#: ``--allow-damaged``, shared by the commands that read a video (``Clip.read(allow_damaged=)``).
AllowDamagedOption = typer.Option(
    False, "--allow-damaged",
    help="Use a video whose frames the decoder reports damaged (a warning names them) instead of stopping.",
)


def motion(
    video: Path = typer.Argument(..., help="The video whose motion to estimate."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to save the motion field (.npz)."),
    estimator: str = EstimatorOption,
    visualize: Optional[Path] = typer.Option(None, "--visualize", help="Also write the motion as a colour-coded video."),
    motion_dtype: str = MotionDtypeOption,
    allow_damaged: bool = AllowDamagedOption,
) -> None:
    """Estimate a video's motion from its frame 0 to every frame and save it as a MotionField."""
    clip = mk.Clip.read(video, allow_damaged=allow_damaged)
    field = mk.estimate_motion(clip, estimator=estimator)
    field.save(output, dtype=motion_dtype)
    say(f"wrote {output} ({field.frames} frames, {field.size[1]}x{field.size[0]})")
    if visualize is not None:
        field.visualize(style="color", fps=clip.fps).write(visualize, progress=True)
        say(f"wrote {visualize}")


def register(app: typer.Typer) -> None:
    """Add ``motion`` to ``app``."""
    app.command(epilog=EXAMPLE)(motion)
