"""The ``motionkit`` command line: a thin shell over the public Python API.

Every command maps onto functions a script can call (``motionkit.animate``,
``motionkit.translate``, ``MotionField.save`` ...); nothing here holds logic the API lacks.
Errors that motionkit raises on purpose print as one line and exit with status 1.
"""

from __future__ import annotations

import sys
import warnings

from motionkit.errors import MotionkitError, MotionkitWarning


def _one_line(message, category, filename, lineno, file=None, line=None) -> None:
    """Print motionkit's warnings as ``motionkit: warning: ...`` (no source line); others as Python does."""
    if issubclass(category, MotionkitWarning):
        print(f"motionkit: warning: {message}", file=sys.stderr)
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


_python_showwarning = warnings.showwarning


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status (0 success, 1 a motionkit error, 2 a usage error)."""
    from motionkit.cli.app import app

    with warnings.catch_warnings():
        warnings.simplefilter("always", MotionkitWarning)
        warnings.showwarning = _one_line
        try:
            # Standalone mode lets typer print usage errors and --help itself; it ends in SystemExit.
            app(args=argv, prog_name="motionkit")
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except MotionkitError as exc:
            print(f"motionkit: error: {exc}", file=sys.stderr)
            return 1
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
