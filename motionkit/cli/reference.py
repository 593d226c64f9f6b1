"""The command-line reference, rendered from the CLI itself (every command's ``--help``).

The documentation build calls :func:`markdown` (``docs/hooks.py``), so the reference page is
whatever ``motionkit COMMAND --help`` prints for the code being documented, and cannot drift.

Example:
    >>> "## motionkit animate" in markdown()
    True
"""

from __future__ import annotations

import click
import typer


def commands() -> dict[str, click.Command]:
    """``{name: click command}`` of every ``motionkit`` command, in the order ``--help`` lists them."""
    from motionkit.cli.app import app

    group = typer.main.get_command(app)
    context = click.Context(group, info_name="motionkit")
    return {name: group.get_command(context, name) for name in group.list_commands(context)}


def help_text(name: str | None = None) -> str:
    """What ``motionkit [NAME] --help`` prints (80 columns)."""
    from motionkit.cli.app import app

    group = typer.main.get_command(app)
    root = click.Context(group, info_name="motionkit", terminal_width=80, max_content_width=80)
    if name is None:
        return group.get_help(root)
    command = group.get_command(root, name)
    with click.Context(command, info_name=name, parent=root, terminal_width=80, max_content_width=80) as context:
        return command.get_help(context)


def markdown() -> str:
    """The reference page: ``motionkit --help``, then one section per command with its ``--help``."""
    parts = [
        "# Command-line reference",
        "",
        "Generated from the CLI itself when the documentation is built: each section is what",
        "`motionkit COMMAND --help` prints. The [command-line guide](cli.md) explains them with examples.",
        "",
        "```text",
        help_text().rstrip(),
        "```",
    ]
    for name in commands():
        parts += ["", f"## motionkit {name}", "", "```text", help_text(name).rstrip(), "```"]
    return "\n".join(parts) + "\n"
