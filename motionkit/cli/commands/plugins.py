"""``motionkit plugins``: what the registry holds and which plugins loaded (``mk.registry``)."""

from __future__ import annotations

from importlib.metadata import entry_points

import typer

import motionkit as mk


def _packages() -> dict[str, str]:
    """Entry-point name -> ``"<distribution> <version>"`` of the package that installed it."""
    found = {}
    for ep in entry_points(group=mk.registry.ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        found[ep.name] = f"{dist.name} {dist.version}" if dist is not None else "?"
    return found


def plugins() -> None:
    """List the registered predictors, renderers, flow estimators and backends, and the plugins found.

    Example: motionkit plugins
    """
    registry = mk.registry
    packages = {"motionkit": f"motionkit {mk.__version__}", **_packages()}
    for kind, names in registry.available().items():
        typer.echo(f"{kind}:")
        for name, origin in names.items():
            # A backend is a pair of components; show which.
            pair = registry.backend(name) if kind == registry.BACKEND else None
            detail = f"  {pair.predictor} + {pair.renderer}" if pair else ""
            # A component names the package (and version) it came from; a backend names its pair.
            source = "" if pair else f"  {packages.get(origin, '')}"
            typer.echo(f"  {name:<16} ({origin}){detail}{source}".rstrip())
    found = registry.plugins()
    typer.echo(f"plugins (entry-point group {registry.ENTRY_POINT_GROUP}): {len(found) or 'none installed'}")
    for status in found:
        state = "loaded" if status.loaded else f"FAILED: {status.error}"
        typer.echo(f"  {status.name:<16} {packages.get(status.name, '?'):<26} {status.value}  {state}")


def register(app: typer.Typer) -> None:
    """Add ``plugins`` to ``app``."""
    app.command()(plugins)
