"""``python -m nexus`` runs the CLI."""

from nexus.cli import main

main()
