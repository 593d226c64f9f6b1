"""The typer application behind ``motionkit``: one module per command under ``commands/``.

Each command module defines a ``register(app)`` that adds its command; adding a command is a
new module and one name in :data:`COMMANDS`. Heavy imports happen inside the commands.
"""

from __future__ import annotations

from importlib import import_module

import typer

app = typer.Typer(
    name="motionkit",
    help="Image-to-video with explicit, editable motion fields (Motion-I2V and a weight-free classical backend).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

#: The command modules of ``motionkit.cli.commands``, in the order ``--help`` lists them.
COMMANDS = ("animate", "translate", "motion", "render", "check", "spec", "rerun", "batch", "demo", "plugins", "serve", "convert_official", "train")



def _print_version(value: bool) -> None:
    if value:
        import motionkit

        typer.echo(f"motionkit {motionkit.__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print motionkit's version and exit."),
) -> None:
    """Image-to-video with explicit, editable motion fields (Motion-I2V and a weight-free classical backend)."""


for _name in COMMANDS:
    import_module(f"motionkit.cli.commands.{_name}").register(app)
