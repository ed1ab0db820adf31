"""The ``chainwatch`` command line: parse the arguments, call the room that does the work, print.

The only room of ``streams`` that may import every other one. ``main`` is the console-script entry point
(``streams.cli:main``); the commands live in ``streams.cli.main`` and one module per command group.
"""

from __future__ import annotations


def main() -> None:
    # Imported here so that `import streams.cli.common` does not build the whole command tree.
    from streams.cli.main import main as run

    run()
