"""``python -m streams.cli`` runs the ``chainwatch`` command."""

from streams.cli import main

main()
