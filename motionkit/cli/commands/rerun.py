"""``motionkit rerun``: render a run manifest again and say whether the output is the same, bit for bit."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Optional

import typer

import motionkit as mk
from motionkit.cli.options import say
from motionkit.errors import InvalidInputError

EXAMPLE = "Example: motionkit rerun cat.manifest.json -o cat_again.mp4"
#: Exit status when the new output differs from the recorded one.
DIFFERS = 3


def rerun(
    manifest: Path = typer.Argument(..., help="A run manifest written by `--manifest` of `motionkit animate`, `render` or `translate`."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Where to render (default: the recorded output path)."),
) -> None:
    """Render MANIFEST's run again from its recorded inputs; exit 3 if the output is not the same bit for bit."""
    from motionkit.cli import main

    run = mk.RunManifest.load(manifest)
    changed = run.changed_inputs()
    if changed:
        raise InvalidInputError(f"the run's inputs changed since it was recorded ({', '.join(changed)}); rerun needs the same files")
    now = mk.RunManifest.current_environment()
    drift = [f"{name} {was} -> {now.get(name, 'absent')}" for name, was in run.environment.items() if now.get(name) != was]
    if drift:
        say(f"note: the environment differs from the recorded one ({'; '.join(drift)}); pixels may differ")
    target = output or Path(run.output.path)
    with tempfile.TemporaryDirectory(prefix="motionkit-rerun-") as folder:
        if run.command == "render":  # an image along a saved field, with render's own flags
            argv = ["render", run.image.path, run.motion.path, "-o", str(target), "--renderer", run.renderer]
            argv += ["--fps", repr(run.fps)] if run.fps is not None else []
            argv += ["--brush", run.brush.path] if run.brush is not None else []
            for key, value in run.renderer_options.items():
                argv += ["--renderer-option", f"{key}={json.dumps(value)}"]
        elif run.command == "translate":  # a video's edited keyframes, with translate's own flags
            argv = ["translate", run.video.path, "-o", str(target), "--estimator", run.estimator or "dis",
                    "--renderer", run.renderer]
            for index, record in sorted(run.keyframes.items()):
                argv += ["--keyframe", f"{index}:{record.path}"]
            argv += ["--carry-across-cuts"] if run.carry_across_cuts else []
            argv += ["--allow-damaged"] if run.allow_damaged else []
            argv += ["--prompt", run.prompt] if run.prompt is not None else []
        else:
            spec = run.spec.save(Path(folder) / "spec.json")
            argv = ["animate", run.image.path, "--spec", str(spec), "-o", str(target), "--backend", run.backend,
                    "--renderer", run.renderer]
            argv += ["--depth", run.depth.path] if run.depth is not None else []
        argv += ["--predictor", run.predictor] if run.predictor is not None else []
        argv += ["--seed", str(run.seed)] if run.seed is not None else []
        argv += ["--steps", str(run.steps)] if run.steps is not None else []
        argv += ["--model", run.weights.path] if run.weights is not None else []
        status = main(argv)
    if status != 0:
        raise typer.Exit(status)
    if not run.same_output(target):
        say(f"{target} differs from the recorded output {run.output.path} (SHA-256 {run.output.sha256[:12]}...)")
        raise typer.Exit(DIFFERS)
    say(f"reproduced {run.output.path} bit for bit in {target}")


def register(app: typer.Typer) -> None:
    """Add ``rerun`` to ``app``."""
    app.command(epilog=EXAMPLE)(rerun)
