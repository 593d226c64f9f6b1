"""The typer application behind ``motionkit``. Heavy imports happen inside the commands."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from motionkit.cli.parse import CAMERA_FORM, DRAG_FORM, parse_camera, parse_drag, parse_point

app = typer.Typer(
    name="motionkit",
    help="Image-to-video with explicit, editable motion fields (Motion-I2V and a weight-free classical backend).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

OutOption = typer.Option(..., "--output", "-o", help="Output path (.mp4, .webm, .gif, or a folder for PNG frames).")


def _say(message: str) -> None:
    typer.echo(message, err=True)


WeightsOption = typer.Option(None, "--weights", help="Folder of converted Motion-I2V weights (motionkit convert-official).")
PromptOption = typer.Option(None, "--prompt", help="Text prompt (motion-i2v backend).")
SeedOption = typer.Option(None, "--seed", help="Random seed (motion-i2v backend).")
StepsOption = typer.Option(None, "--steps", min=1, help="Denoising steps (motion-i2v backend; default 25).")


def _learned_options(weights: Optional[Path], seed: Optional[int], steps: Optional[int]) -> dict:
    """The motion-i2v components' keyword arguments the user gave (the rest keep their defaults)."""
    return {k: v for k, v in {"weights": weights, "seed": seed, "steps": steps}.items() if v is not None}


def _renderer_options(renderer: str, weights: Optional[Path], prompt: Optional[str], seed: Optional[int],
                      steps: Optional[int]) -> dict:
    """Keyword arguments of ``renderer``: the learned options, which only motion-i2v takes."""
    options = {**_learned_options(weights, seed, steps), **({"prompt": prompt} if prompt else {})}
    if options and renderer != "motion-i2v":
        from motionkit.errors import InvalidInputError

        flags = ", ".join(f"--{k}" for k in options)
        verb = "applies" if len(options) == 1 else "apply"
        raise InvalidInputError(f"{flags} {verb} only to --renderer motion-i2v, not {renderer!r}")
    # The learned renderer takes minutes on a CPU; show its denoising progress.
    return {**options, "progress": True} if renderer == "motion-i2v" else options


@app.command(
    epilog="Example: motionkit animate cat.png --drag 265,240:290,228 --pin 60,250 --camera zoom=1.05 -o cat.mp4"
)
def animate(
    image: Path = typer.Argument(..., help="The image to animate."),
    output: Path = OutOption,
    drag: list[str] = typer.Option([], "--drag", help=f"A drag: {DRAG_FORM}; the first point ends at the last one in the last frame. Repeatable."),
    pin: list[str] = typer.Option([], "--pin", help="A point X,Y that must stay where it is. Repeatable."),
    brush: Optional[Path] = typer.Option(None, "--brush", help="Motion-brush mask image: white = may move, black = stays."),
    camera: list[str] = typer.Option([], "--camera", help=f"Camera move: {CAMERA_FORM}. Repeatable."),
    frames: int = typer.Option(16, "--frames", min=2, help="Frames of the video, the input included."),
    fps: float = typer.Option(8.0, "--fps", help="Frames per second of the output."),
    backend: str = typer.Option("classical", "--backend", help="classical (no weights) or motion-i2v (learned; needs --weights)."),
    weights: Optional[Path] = WeightsOption,
    prompt: Optional[str] = PromptOption,
    seed: Optional[int] = SeedOption,
    steps: Optional[int] = StepsOption,
    motion_preview: Optional[Path] = typer.Option(None, "--motion-preview", help="Also write the motion as a colour-coded video."),
    save_motion: Optional[Path] = typer.Option(None, "--save-motion", help="Also save the motion field (.npz) to edit and `motionkit render` later."),
) -> None:
    """Animate IMAGE by dragging points on it, optionally under a motion brush and a camera move."""
    import motionkit as mk
    from motionkit.verbs import image_to_video as api
    from motionkit.io.image import image_to_tensor

    started = time.perf_counter()
    # Parse every option string before reading anything, so a typo fails at once.
    drags, pins, camera_move = [parse_drag(d) for d in drag], [parse_point(p) for p in pin], parse_camera(camera)
    trajectories = [mk.Trajectory.from_points(points, frames=frames) for points in drags]
    trajectories += [mk.Trajectory.pin(point, frames=frames) for point in pins]
    mask = mk.RegionMask.from_image(brush) if brush is not None else None
    predictor_options: dict = {}
    renderer_options: dict = {}
    if backend == "motion-i2v":
        predictor_options = {**_learned_options(weights, seed, steps), "progress": True}
        renderer_options = {**predictor_options, **({"prompt": prompt} if prompt else {})}
    elif backend != "classical":
        raise mk.errors.InvalidInputError(f"--backend {backend!r}: expected classical or motion-i2v")
    pred_name, render_name = api.BACKENDS[backend]

    image_t = image_to_tensor(image)
    # Both components check their weights when made, so missing weights fail before any work.
    predictor = mk.MotionPredictor.get(pred_name, **predictor_options)
    renderer = mk.Renderer.get(render_name, **renderer_options)
    _say("predicting motion ...")
    motion = mk.predict_motion(
        image_t, trajectories, brush=mask, camera=camera_move or None, frames=frames, predictor=predictor, prompt=prompt,
    )
    if save_motion is not None:
        motion.save(save_motion)
        _say(f"wrote {save_motion}")
    _say("rendering ...")
    clip = renderer.render(image_t, motion, None if camera_move else mask, fps=fps)
    clip.write(output, progress=True)
    _say(f"wrote {output} ({len(clip)} frames, {time.perf_counter() - started:.1f} s)")
    if motion_preview is not None:
        motion.visualize(style="color", fps=fps).write(motion_preview)
        _say(f"wrote {motion_preview}")


@app.command(epilog="Example: motionkit translate walk.mp4 walk_frame0_painted.png -o walk_painted.mp4")
def translate(
    video: Path = typer.Argument(..., help="The source video."),
    edited_first_frame: Path = typer.Argument(..., help="Frame 0 of the video, edited in any tool (same size)."),
    output: Path = OutOption,
    estimator: str = typer.Option("dis", "--estimator", help="Flow estimator: dis, farneback or a plugin's."),
    renderer: str = typer.Option("warp", "--renderer", help="Renderer: warp, motion-i2v or a plugin's."),
    weights: Optional[Path] = WeightsOption,
    prompt: Optional[str] = PromptOption,
    seed: Optional[int] = SeedOption,
    steps: Optional[int] = StepsOption,
) -> None:
    """Carry an edit of a video's first frame through the whole video, along the video's motion."""
    import motionkit as mk

    started = time.perf_counter()
    options = _renderer_options(renderer, weights, prompt, seed, steps)
    clip = mk.translate(video, edited_first_frame, estimator=estimator, renderer=renderer, renderer_options=options)
    clip.write(output, progress=True)
    _say(f"wrote {output} ({len(clip)} frames, {time.perf_counter() - started:.1f} s)")


@app.command(epilog="Example: motionkit motion walk.mp4 -o walk_motion.npz --visualize walk_flow.mp4")
def motion(
    video: Path = typer.Argument(..., help="The video whose motion to estimate."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to save the motion field (.npz)."),
    estimator: str = typer.Option("dis", "--estimator", help="Flow estimator: dis, farneback or a plugin's."),
    visualize: Optional[Path] = typer.Option(None, "--visualize", help="Also write the motion as a colour-coded video."),
) -> None:
    """Estimate a video's motion from its frame 0 to every frame and save it as a MotionField."""
    import motionkit as mk

    clip = mk.Clip.read(video)
    field = mk.estimate_motion(clip, estimator=estimator)
    field.save(output)
    _say(f"wrote {output} ({field.frames} frames, {field.size[1]}x{field.size[0]})")
    if visualize is not None:
        field.visualize(style="color", fps=clip.fps).write(visualize, progress=True)
        _say(f"wrote {visualize}")


@app.command(epilog="Example: motionkit render cat.png cat_motion_edited.npz -o cat.mp4")
def render(
    image: Path = typer.Argument(..., help="The reference image (frame 0)."),
    field: Path = typer.Argument(..., help="A saved MotionField (.npz), e.g. from --save-motion, edited."),
    output: Path = OutOption,
    renderer: str = typer.Option("warp", "--renderer", help="Renderer: warp, motion-i2v or a plugin's."),
    brush: Optional[Path] = typer.Option(None, "--brush", help="Mask image: outside it (black) pixels stay as in IMAGE."),
    fps: float = typer.Option(8.0, "--fps", help="Frames per second of the output."),
    weights: Optional[Path] = WeightsOption,
    prompt: Optional[str] = PromptOption,
    seed: Optional[int] = SeedOption,
    steps: Optional[int] = StepsOption,
) -> None:
    """Render IMAGE along a saved motion field."""
    import motionkit as mk
    from motionkit.verbs import image_to_video as api
    from motionkit.io.image import image_to_tensor

    paint = mk.Renderer.get(renderer, **_renderer_options(renderer, weights, prompt, seed, steps))
    motion_field = mk.MotionField.load(field)
    image_t = image_to_tensor(image)
    if tuple(image_t.shape[1:]) != motion_field.size:
        raise mk.errors.ShapeMismatchError(
            f"{image} is {image_t.shape[2]}x{image_t.shape[1]} but {field} is {motion_field.size[1]}x{motion_field.size[0]} (W x H); "
            "resize the field with MotionField.resize or render the image it was made for"
        )
    mask = api.as_brush_mask(brush, motion_field.size)
    clip = paint.render(image_t, motion_field, mask, fps=fps)
    clip.write(output, progress=True)
    _say(f"wrote {output} ({len(clip)} frames)")


@app.command(epilog="Example: motionkit demo -o motionkit-demo")
def demo(output: Path = typer.Option(Path("motionkit-demo"), "--output", "-o", help="Folder for the demo's files.")) -> None:
    """Animate the bundled cat photo with a preset drag and camera move; write video, motion preview and a side-by-side GIF."""
    from motionkit.demo import run_demo

    report = run_demo(output, progress=True)
    for path in report.files:
        typer.echo(f"wrote {path}")
    typer.echo(f"done in {report.seconds:.1f} s")


@app.command()
def plugins() -> None:
    """List the registered predictors, renderers and flow estimators, and the plugins found.

    Example: motionkit plugins
    """
    from motionkit import registry

    for kind, names in registry.available().items():
        typer.echo(f"{kind}:")
        for name, origin in names.items():
            typer.echo(f"  {name:<16} ({origin})")
    found = registry.plugins()
    typer.echo(f"plugins (entry-point group {registry.ENTRY_POINT_GROUP}): {len(found) or 'none installed'}")
    for status in found:
        state = "loaded" if status.loaded else f"FAILED: {status.error}"
        typer.echo(f"  {status.name:<16} {status.value}  {state}")


@app.command("convert-official", epilog="Example: motionkit convert-official ./Motion-I2V ./motion-i2v-converted")
def convert_official(
    source: Path = typer.Argument(..., help="The official release folder (holding models/stage1 and models/stage2)."),
    destination: Path = typer.Argument(..., help="Where to write motionkit's safetensors layout."),
) -> None:
    """Convert the official Motion-I2V weights (wangfuyun/Motion-I2V) into motionkit's layout."""
    from motionkit.models.motion_i2v.convert import convert_official as convert

    convert(source, destination, progress=True)
    typer.echo(f"wrote {destination}")


@app.command(epilog="Example: motionkit train controlnet --data ./videos --config controlnet.yaml  (multi-GPU: accelerate launch -m motionkit train ...)")
def train(
    task: str = typer.Argument(..., help="What to train: flow-vae, stage1, controlnet or stage2."),
    data: Optional[Path] = typer.Option(None, "--data", help="Folder of videos with captions (clip.mp4 + clip.txt); overrides the config's."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML file of training settings (motionkit.training.TrainConfig)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Run folder for checkpoints and loss.jsonl (default: the config's, else runs/TASK)."),
    pretrained: Optional[Path] = typer.Option(None, "--pretrained", help="Converted Motion-I2V weights to start from."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Optimisation steps (overrides the config's)."),
) -> None:
    """Train one Motion-I2V component on a folder of captioned videos (HuggingFace accelerate)."""
    from motionkit.errors import InvalidInputError
    from motionkit.training import TASKS, TrainConfig
    from motionkit.training import train as run_training

    if task not in TASKS:
        raise InvalidInputError(f"unknown training task {task!r}; expected one of {', '.join(TASKS)}")
    overrides = {k: v for k, v in {"output_dir": output, "pretrained": pretrained, "steps": steps}.items() if v is not None}
    if config is not None:
        settings = TrainConfig.from_yaml(config, task=task, **overrides)
        if data is not None:
            settings = settings.model_copy(update={"data": settings.data.model_copy(update={"folder": data})})
    elif data is None:
        raise InvalidInputError("motionkit train needs --data FOLDER or a --config that names one")
    else:
        overrides.setdefault("output_dir", Path("runs") / task)
        settings = TrainConfig(task=task, data={"folder": data}, **overrides)
    result = run_training(settings)
    typer.echo(f"trained {task} to step {result.step}; checkpoints in {settings.output_dir}")
