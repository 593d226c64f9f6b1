"""``motionkit animate``: drags, pins, a motion brush and a camera move -> a video (``mk.animate``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

import motionkit as mk
from motionkit.cli.commands.motion import MotionDtypeOption
from motionkit.cli.options import (
    FpsOption, ModelOption, OutOption, PromptOption, SeedOption, StepsOption, learned_options, route, say,
)
from motionkit.cli.parse import CAMERA_FORM, DRAG_FORM, parse_camera, parse_drag, parse_point

EXAMPLE = "Example: motionkit animate cat.png --drag 265,240:290,228 --pin 60,250 --camera zoom=1.05 -o cat.mp4"


def animate(
    image: Path = typer.Argument(..., help="The image to animate."),
    output: Path = OutOption,
    drag: list[str] = typer.Option([], "--drag", help=f"A drag: {DRAG_FORM}; the first point ends at the last one in the last frame. Repeatable."),
    pin: list[str] = typer.Option([], "--pin", help="A point X,Y that must stay where it is. Repeatable."),
    brush: Optional[Path] = typer.Option(None, "--brush", help="Motion-brush mask image: white = may move, black = stays."),
    camera: list[str] = typer.Option([], "--camera", help=f"Camera move: {CAMERA_FORM}. Repeatable."),
    frames: int = typer.Option(16, "--frames", min=2, help="Frames of the video, the input included."),
    fps: float = FpsOption,
    backend: str = typer.Option("classical", "--backend", help="classical (no weights), motion-i2v (learned; needs --model) or a plugin's."),
    renderer: Optional[str] = typer.Option(None, "--renderer", help="Any registered renderer, whatever the predictor (default: the backend's)."),
    model: Optional[Path] = ModelOption,
    prompt: Optional[str] = PromptOption,
    seed: Optional[int] = SeedOption,
    steps: Optional[int] = StepsOption,
    motion_preview: Optional[Path] = typer.Option(None, "--motion-preview", help="Also write the motion as a colour-coded video."),
    save_motion: Optional[Path] = typer.Option(None, "--save-motion", help="Also save the motion field (.npz) to edit and `motionkit render` later."),
    motion_dtype: str = MotionDtypeOption,
) -> None:
    """Animate IMAGE by dragging points on it, optionally under a motion brush and a camera move."""
    started = time.perf_counter()
    # Parse every option string before reading anything, so a typo fails at once.
    drags, pins, camera_move = [parse_drag(d) for d in drag], [parse_point(p) for p in pin], parse_camera(camera)
    pair = mk.registry.backend(backend)
    render_with = renderer or pair.renderer
    options = route(learned_options(model, seed, steps), predictor=pair.predictor, renderer=render_with)
    if prompt is not None and "prompt" in mk.registry.shared_options(renderer=render_with):
        options["renderer"]["prompt"] = prompt
    trajectories = [mk.Trajectory.from_points(points, frames=frames) for points in drags]
    trajectories += [mk.Trajectory.pin(point, frames=frames) for point in pins]
    predicted: list[mk.MotionField] = []

    def keep(motion: mk.MotionField) -> mk.MotionField:
        # Called between the two stages: save the field before the (slow) rendering starts.
        predicted.append(motion)
        if save_motion is not None:
            motion.save(save_motion, dtype=motion_dtype)
            say(f"wrote {save_motion}")
        say(f"predicted motion ({motion.frames} frames); rendering ...")
        return motion

    # Nothing is printed before the verb starts: a bad input or missing weights stays one line.
    clip = mk.animate(
        image, trajectories, brush=brush, camera=camera_move or None, frames=frames, fps=fps, backend=backend,
        renderer=render_with, prompt=prompt, predictor_options=options["predictor"],
        renderer_options=options["renderer"], motion_edit=keep,
    )
    clip.write(output, progress=True)
    say(f"wrote {output} ({len(clip)} frames, {time.perf_counter() - started:.1f} s)")
    if motion_preview is not None:
        predicted[0].visualize(style="color", fps=fps).write(motion_preview)
        say(f"wrote {motion_preview}")


def register(app: typer.Typer) -> None:
    """Add ``animate`` to ``app``."""
    app.command(epilog=EXAMPLE)(animate)
