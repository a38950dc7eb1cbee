"""The ``nexus`` command line (Typer). Nothing else in Nexus depends on it."""

import sys

from nexus.cli._app import app
from nexus.cli._app import main as _main

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    sys.exit(_main())
