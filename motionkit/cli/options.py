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

#: The flag that sets each option, for messages.
FLAGS = {"weights": "--model", "seed": "--seed", "steps": "--steps", "prompt": "--prompt"}

#: Component options whose values are live Python objects, so neither a flag nor a JSON document
#: can carry them; what each does is reached from the command line another way. Every other
#: option of every registered component is reached by ``--predictor-option`` /
#: ``--renderer-option`` / ``--estimator-option KEY=VALUE`` (tests/cli/test_spec_reachability.py).
PYTHON_ONLY = {
    "callback": "a function called at each denoising step; the command line shows progress itself",
    "generator": "a torch.Generator; --seed seeds the one the component makes",
    "pipeline": "an already loaded pipeline object; --model names the weights to load",
    "options": "an options object bundling the component's other options, each reachable on its own",
}


def learned_options(model: Optional[Path], seed: Optional[int], steps: Optional[int],
                    prompt: Optional[str] = None) -> dict[str, Any]:
    """The learned options the user gave, as component keyword arguments (unset ones left out)."""
    given = {"weights": model, "seed": seed, "steps": steps, "prompt": prompt}
    return {k: v for k, v in given.items() if v is not None}


def check(given: dict[str, Any], **components: str) -> None:
    """The option rule (``motionkit.registry.check_options``) with the flags named as typed.

    ``components`` maps a role (``predictor``, ``renderer``, ``flow_estimator``) to the chosen name.

    Raises:
        UnusedOptionError: an option no chosen component uses (a flag that would do nothing),
            naming the components that would use it.
    """
    mk.registry.check_options(given, labels=FLAGS, **components)


def route(given: dict[str, Any], **components: str) -> dict[str, dict[str, Any]]:
    """Hand each option to every chosen component whose constructor takes it (after :func:`check`).

    What a component takes is read from its signature (``motionkit.registry.accepts``). A
    component that names a ``progress`` option also gets ``progress=True``: the learned ones
    take minutes on a CPU. The result maps each role to its constructor options.

    Raises:
        UnusedOptionError: an option no chosen component uses.
    """
    routed = mk.registry.route_options(given, labels=FLAGS, **components)
    for role, name in components.items():
        if "progress" in mk.registry.accepts(role, name).options:
            routed[role].setdefault("progress", True)
    return routed
