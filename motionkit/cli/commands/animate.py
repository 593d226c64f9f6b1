"""``motionkit animate``: drags, pins, a motion brush and a camera move -> a video (``mk.animate``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

import motionkit as mk
from motionkit.cli.commands.motion import MotionDtypeOption
from motionkit.cli.options import (
    ModelOption, PromptOption, SeedOption, StepsOption, check, learned_options, route, say,
)
from motionkit.cli.parse import CAMERA_FORM, DRAG_FORM, OPTION_FORM, parse_camera, parse_drag, parse_options, parse_point
from motionkit.cli.spec_flags import spec_from_flags
from motionkit.errors import InvalidInputError

EXAMPLE = "Example: motionkit animate cat.png --drag 265,240:290,228 --pin 60,250 --camera zoom=1.05 -o cat.mp4"


def animate(
    image: Path = typer.Argument(..., help="The image to animate."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output path (.mp4, .webm, .gif, or a folder for PNG frames); may be left out with --save-spec or --save-motion (then only the motion is predicted)."),
    drag: list[str] = typer.Option([], "--drag", help=f"A drag: {DRAG_FORM}; the first point ends at the last one in the last frame. Repeatable."),
    pin: list[str] = typer.Option([], "--pin", help="A point X,Y held still in the scene (a --camera move still moves it, as it moves everything). Repeatable."),
    brush: Optional[Path] = typer.Option(None, "--brush", help="Motion-brush mask image: white = may move, black = stays."),
    camera: list[str] = typer.Option([], "--camera", help=f"Camera move: {CAMERA_FORM}. Repeatable."),
    frames: Optional[int] = typer.Option(None, "--frames", min=2, help="Frames of the video, the input included (default 16, or the spec's)."),
    fps: Optional[float] = typer.Option(None, "--fps", help="Frames per second of the output (default 8, or the spec's)."),
    backend: Optional[str] = typer.Option(None, "--backend", help="classical (no weights), motion-i2v (learned; needs --model) or a plugin's (default: the spec's hint, else classical)."),
    predictor: Optional[str] = typer.Option(None, "--predictor", help="Any registered motion predictor (default: the backend's)."),
    renderer: Optional[str] = typer.Option(None, "--renderer", help="Any registered renderer, whatever the predictor (default: the backend's)."),
    predictor_option: list[str] = typer.Option([], "--predictor-option", help=f"An option of the predictor: {OPTION_FORM} Repeatable; kept in the spec's hints."),
    renderer_option: list[str] = typer.Option([], "--renderer-option", help=f"An option of the renderer: {OPTION_FORM} Repeatable; kept in the spec's hints."),
    model: Optional[Path] = ModelOption,
    prompt: Optional[str] = PromptOption,
    seed: Optional[int] = SeedOption,
    steps: Optional[int] = StepsOption,
    motion_preview: Optional[Path] = typer.Option(None, "--motion-preview", help="Also write the motion as a colour-coded video."),
    save_motion: Optional[Path] = typer.Option(None, "--save-motion", help="Also save the motion field (.npz) to edit and `motionkit render` later."),
    motion_dtype: str = MotionDtypeOption,
    # -- the motion document ------------------------------------------------------------------
    spec: Optional[Path] = typer.Option(None, "--spec", help="A motion spec (JSON); the flags above add to it, --frames/--fps override it."),
    save_spec: Optional[Path] = typer.Option(None, "--save-spec", help="Write the spec the flags describe; without -o nothing is rendered."),
    report: Optional[Path] = typer.Option(None, "--report", help="Check the output against the spec and write the adherence report (JSON)."),
    depth: Optional[Path] = typer.Option(None, "--depth", help="Depth map for the spec's 3D camera moves: .npy depths (larger = farther) or an image (white = near)."),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="Also write a run manifest (JSON) to check or `motionkit rerun` this render."),
) -> None:
    """Animate IMAGE by dragging points on it, optionally under a motion brush and a camera move."""
    started = time.perf_counter()
    # Everything that can be checked is checked before any work, so a typo fails at once:
    # the option strings, the options against the chosen components, every output path.
    drags, pins, camera_move = [parse_drag(d) for d in drag], [parse_point(p) for p in pin], parse_camera(camera)
    given = {"predictor": parse_options(predictor_option, "--predictor-option"),
             "renderer": parse_options(renderer_option, "--renderer-option")}
    for path in (output, motion_preview):
        if path is not None:  # the flags' --fps and --frames; a spec's own are checked below
            mk.check_output(path, fps=fps, frames=frames)
    shot, size = spec_from_flags(image, spec=spec, drags=drags, pins=pins, brush=brush, camera=camera_move,
                                 frames=frames, fps=fps, prompt=prompt, options=given)
    # The spec's backend hints choose the backend and give options (the flags' are in them now).
    backend = backend or shot.hints.backend or "classical"
    pair = mk.registry.backend(backend)
    predict_with, render_with = predictor or pair.predictor, renderer or pair.renderer
    # The option rule covers a prompt from the spec and the hints' options as well as the flags.
    check(learned_options(model, seed, steps, shot.prompt), predictor=predict_with, renderer=render_with)
    mk.registry.check_options(dict(shot.hints.predictor_options), labels=option_labels("--predictor-option", given["predictor"]),
                              predictor=predict_with)
    mk.registry.check_options(dict(shot.hints.renderer_options), labels=option_labels("--renderer-option", given["renderer"]),
                              renderer=render_with)
    options = route(learned_options(model, seed, steps), predictor=predict_with, renderer=render_with)
    for path in (output, motion_preview):
        if path is not None and (fps is None or frames is None):
            mk.check_output(path, fps=shot.fps, frames=shot.frames)
    if save_motion is not None:
        mk.check_output(save_motion, kind="motion")
    if save_spec is not None:
        shot.save(save_spec)
        say(f"wrote {save_spec}")
    if output is None:
        if save_motion is not None:  # stage 1 alone (mk.predict_motion): the motion, no video
            motion = shot.compile(image, predictor=predict_with, depth=depth,
                                  **{**shot.hints.predictor_options, **options["predictor"]})
            motion.save(save_motion, dtype=motion_dtype)
            say(f"wrote {save_motion} ({motion.frames} frames)")
            return
        if save_spec is not None:
            return
        raise InvalidInputError("give -o OUTPUT to render, --save-motion to only predict the motion, "
                                "or --save-spec SPEC.json to only write the spec")
    predicted: list[mk.MotionField] = []

    def keep(motion: mk.MotionField) -> mk.MotionField:
        # Called between the two stages: save the field before the (slow) rendering starts.
        predicted.append(motion)
        if save_motion is not None:
            motion.save(save_motion, dtype=motion_dtype)
            say(f"wrote {save_motion}")
        say(f"predicted motion ({motion.frames} frames); rendering ...")
        return motion

    # The one document, as a script renders it: mk.animate(image, spec=shot, ...).
    clip = mk.animate(image, spec=shot, backend=backend, predictor=predictor, renderer=renderer,
                      predictor_options=options["predictor"], renderer_options=options["renderer"], depth=depth,
                      motion_edit=keep)
    clip.write(output, progress=True)
    say(f"wrote {output} ({len(clip)} frames, {time.perf_counter() - started:.1f} s)")
    if motion_preview is not None:
        predicted[0].visualize(style="color", fps=shot.fps).write(motion_preview)
        say(f"wrote {motion_preview}")
    if report is not None:
        write_report(output, shot, report, depth)
    if manifest is not None:
        mk.RunManifest.record(image=image, output=output, spec=shot, backend=backend, renderer=render_with, seed=seed,
                              steps=steps, weights=model, depth=depth, predictor=predict_with).save(manifest)
        say(f"wrote {manifest}")


def option_labels(flag: str, given: dict) -> dict[str, str]:
    """How the option rule names each option a flag gave (``--renderer-option guidance``)."""
    return {key: f"{flag} {key}" for key in given}


def write_report(video: Path, shot: mk.MotionSpec, report: Path, depth: Optional[Path] = None) -> None:
    """Check ``video`` against ``shot`` (``depth``: for its 3D camera moves), write the report and show its table."""
    adherence = mk.check(video, shot, depth=depth)
    adherence.save(report)
    say(adherence.table())
    say(f"wrote {report}")


def register(app: typer.Typer) -> None:
    """Add ``animate`` to ``app``."""
    app.command(epilog=EXAMPLE)(animate)
