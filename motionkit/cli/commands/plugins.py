"""``motionkit plugins``: what the registry holds and which plugins loaded (``mk.registry``)."""

from __future__ import annotations

import typer

import motionkit as mk


def plugins() -> None:
    """List the registered predictors, renderers, flow estimators and backends, and the plugins found.

    Example: motionkit plugins
    """
    registry = mk.registry
    for kind, names in registry.available().items():
        typer.echo(f"{kind}:")
        for name, origin in names.items():
            # A backend is a pair of components; show which.
            pair = registry.backend(name) if kind == registry.BACKEND else None
            detail = f"  {pair.predictor} + {pair.renderer}" if pair else ""
            typer.echo(f"  {name:<16} ({origin}){detail}")
    found = registry.plugins()
    typer.echo(f"plugins (entry-point group {registry.ENTRY_POINT_GROUP}): {len(found) or 'none installed'}")
    for status in found:
        state = "loaded" if status.loaded else f"FAILED: {status.error}"
        typer.echo(f"  {status.name:<16} {status.value}  {state}")


def register(app: typer.Typer) -> None:
    """Add ``plugins`` to ``app``."""
    app.command()(plugins)
