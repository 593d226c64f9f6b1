"""``motionkit render``: an image along a saved (edited) motion field (``mk.render``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

import motionkit as mk
from motionkit.cli.options import (
    FpsOption, ModelOption, OutOption, PromptOption, RendererOption, SeedOption, StepsOption, learned_options, route,
    say,
)
from motionkit.cli.commands.animate import write_report
from motionkit.cli.parse import OPTION_FORM, parse_options
from motionkit.errors import InvalidInputError

EXAMPLE = "Example: motionkit render cat.png cat_motion_edited.npz -o cat.mp4"


def render(
    image: Path = typer.Argument(..., help="The reference image (frame 0)."),
    field: Path = typer.Argument(..., help="A saved MotionField (.npz), e.g. from --save-motion, edited."),
    output: Path = OutOption,
    renderer: str = RendererOption,
    brush: Optional[Path] = typer.Option(None, "--brush", help="Mask image: outside it (black) pixels stay as in IMAGE."),
    fps: float = FpsOption,
    model: Optional[Path] = ModelOption,
    prompt: Optional[str] = PromptOption,
    seed: Optional[int] = SeedOption,
    steps: Optional[int] = StepsOption,
    spec: Optional[Path] = typer.Option(None, "--spec", help="The motion spec the field was made from (for --report)."),
    report: Optional[Path] = typer.Option(None, "--report", help="Check the output against --spec and write the adherence report (JSON)."),
    renderer_option: list[str] = typer.Option([], "--renderer-option", help=f"An option of the renderer: {OPTION_FORM} Repeatable."),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="Also write a run manifest (JSON) to check or `motionkit rerun` this render."),
) -> None:
    """Render IMAGE along a saved motion field."""
    if report is not None and spec is None:
        raise InvalidInputError("--report needs --spec SPEC.json: the spec the output is checked against")
    given = parse_options(renderer_option, "--renderer-option")
    mk.registry.check_options(given, labels={k: f"--renderer-option {k}" for k in given}, renderer=renderer)
    options = {**given, **route(learned_options(model, seed, steps, prompt), renderer=renderer)["renderer"]}
    motion = mk.MotionField.load(field)
    clip = mk.render(image, motion, brush=brush, renderer=renderer, fps=fps, **options)
    clip.write(output, progress=True)
    say(f"wrote {output} ({len(clip)} frames)")
    shot = None if spec is None else mk.MotionSpec.load(spec)
    if report is not None:
        write_report(output, shot, report)
    if manifest is not None:
        mk.RunManifest.record(command="render", image=image, output=output, spec=shot, motion=field, brush=brush, fps=fps,
                              renderer_options=given, backend="classical", renderer=renderer, seed=seed, steps=steps,
                              weights=model).save(manifest)
        say(f"wrote {manifest}")


def register(app: typer.Typer) -> None:
    """Add ``render`` to ``app``."""
    app.command(epilog=EXAMPLE)(render)
