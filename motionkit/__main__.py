"""``python -m motionkit`` is the ``motionkit`` command."""

from motionkit.cli import run

if __name__ == "__main__":
    run()
