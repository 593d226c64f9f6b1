"""Option groups that several commands share, defined once so a new command only picks them.

Typer reads an option's flags and help from the ``typer.Option`` default, so a group is a set
of such defaults plus the helper that turns the values into the API's keyword arguments.
Camera and drag strings are parsed in :mod:`motionkit.cli.parse`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

import motionkit as mk
from motionkit.errors import InvalidInputError

# -- output ------------------------------------------------------------------------------------

OutOption = typer.Option(..., "--output", "-o", help="Output path (.mp4, .webm, .gif, or a folder for PNG frames).")
FpsOption = typer.Option(8.0, "--fps", help="Frames per second of the output.")


def say(message: str) -> None:
    """Progress for the person at the terminal; stderr keeps stdout for results."""
    typer.echo(message, err=True)


# -- components --------------------------------------------------------------------------------

EstimatorOption = typer.Option("dis", "--estimator", help="Flow estimator: dis, farneback or a plugin's.")
RendererOption = typer.Option("warp", "--renderer", help="Renderer: warp, motion-i2v or a plugin's.")

# -- learned-model options ---------------------------------------------------------------------

ModelOption = typer.Option(
    None, "--model", "--weights",
    help="Folder of converted Motion-I2V weights (motionkit convert-official), for any learned component.",
)
PromptOption = typer.Option(None, "--prompt", help="Text prompt (motion-i2v backend).")
SeedOption = typer.Option(None, "--seed", help="Random seed (motion-i2v backend).")
StepsOption = typer.Option(None, "--steps", min=1, help="Denoising steps (motion-i2v backend; default 25).")

#: The flag that sets each learned option, for messages.
_FLAGS = {"weights": "--model", "seed": "--seed", "steps": "--steps", "prompt": "--prompt"}


def learned_options(model: Optional[Path], seed: Optional[int], steps: Optional[int],
                    prompt: Optional[str] = None) -> dict[str, Any]:
    """The learned options the user gave, as component keyword arguments (unset ones left out)."""
    given = {"weights": model, "seed": seed, "steps": steps, "prompt": prompt}
    return {k: v for k, v in given.items() if v is not None}


def route(given: dict[str, Any], **components: str) -> dict[str, dict[str, Any]]:
    """Hand each learned option to every chosen component that takes it.

    Which component takes which option is registry data: the shared options of the backends
    a component belongs to (``motionkit.registry.shared_options``). A learned component also
    gets ``progress=True``, since it takes minutes on a CPU. ``components`` maps a role
    (``predictor``, ``renderer``) to the chosen name; the result maps each role to its options.

    Raises:
        InvalidInputError: an option no chosen component takes (a flag that would do nothing).
    """
    takes = {role: set(mk.registry.shared_options(**{role: name})) for role, name in components.items()}
    ignored = [k for k in given if not any(k in names for names in takes.values())]
    if ignored:
        flags = ", ".join(_FLAGS.get(k, f"--{k}") for k in ignored)
        verb = "applies" if len(ignored) == 1 else "apply"
        takers = [choice for role in components for choice in _takers(role, set(ignored))]
        chosen = " + ".join(repr(name) for name in components.values())
        raise InvalidInputError(f"{flags} {verb} only to {' or '.join(takers) or 'a learned component'}, not {chosen}")
    with_progress = {**given, "progress": True}
    return {role: {k: v for k, v in with_progress.items() if k in takes[role]} for role in components}


def _takers(role: str, options: set[str]) -> list[str]:
    """The command-line choices (``--renderer NAME``, ``--backend NAME``) whose component takes ``options``."""
    if role == "predictor":  # a predictor is chosen through its backend on the command line
        return [f"--backend {name}" for name in mk.registry.available()["backend"]
                if options <= set(mk.registry.shared_options(predictor=mk.registry.backend(name).predictor))]
    return [f"--{role} {name}" for name in mk.registry.available()[role]
            if options <= set(mk.registry.shared_options(**{role: name}))]
