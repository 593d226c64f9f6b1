"""``motionkit translate``: an edit of frame 0 carried through a video (``mk.translate``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

import motionkit as mk
from motionkit.cli.commands.motion import AllowDamagedOption
from motionkit.cli.options import (
    EstimatorOption, ModelOption, OutOption, PromptOption, RendererOption, SeedOption, StepsOption, learned_options,
    route, say,
)

EXAMPLE = "Example: motionkit translate walk.mp4 walk_frame0_painted.png -o walk_painted.mp4"


def translate(
    video: Path = typer.Argument(..., help="The source video."),
    edited_first_frame: Path = typer.Argument(..., help="Frame 0 of the video, edited in any tool (same size)."),
    output: Path = OutOption,
    estimator: str = EstimatorOption,
    renderer: str = RendererOption,
    model: Optional[Path] = ModelOption,
    prompt: Optional[str] = PromptOption,
    seed: Optional[int] = SeedOption,
    steps: Optional[int] = StepsOption,
    allow_damaged: bool = AllowDamagedOption,
) -> None:
    """Carry an edit of a video's first frame through the whole video, along the video's motion."""
    started = time.perf_counter()
    options = route(learned_options(model, seed, steps, prompt), renderer=renderer)["renderer"]
    source = mk.Clip.read(video, allow_damaged=True) if allow_damaged else video
    clip = mk.translate(source, edited_first_frame, estimator=estimator, renderer=renderer, renderer_options=options)
    clip.write(output, progress=True)
    say(f"wrote {output} ({len(clip)} frames, {time.perf_counter() - started:.1f} s)")


def register(app: typer.Typer) -> None:
    """Add ``translate`` to ``app``."""
    app.command(epilog=EXAMPLE)(translate)
