"""``motionkit spec``: the motion document's tools (``schema`` prints its JSON Schema)."""

from __future__ import annotations

import json

import typer

import motionkit as mk

spec_app = typer.Typer(help="The motion spec: its JSON Schema.", no_args_is_help=True, rich_markup_mode=None)


@spec_app.command("schema", epilog="Example: motionkit spec schema > motionkit-spec.schema.json")
def schema() -> None:
    """Print the JSON Schema of a motion spec to stdout."""
    typer.echo(json.dumps(mk.MotionSpec.json_schema(), indent=1))


def register(app: typer.Typer) -> None:
    """Add the ``spec`` group to ``app``."""
    app.add_typer(spec_app, name="spec")
