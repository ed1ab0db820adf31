"""The ``chainwatch`` command line: parse the arguments, call the room that does the work, print.

The only room of ``streams`` that may import every other one. ``main`` is the console-script entry point
(``streams.cli:main``); the commands live in ``streams.cli.main`` and one module per command group.
"""

from __future__ import annotations


def main() -> None:
    import sys

    if sys.argv[1:3] == ["guard", "hook"] and not {"--help", "-h"} & set(sys.argv[3:]):
        # Claude Code runs the hook on every tool call: skip the command tree (a second of imports).
        from streams.guard.claude_hook import main as hook

        sys.exit(hook(sys.argv[3:]))
    # Imported here so that `import streams.cli.common` does not build the whole command tree.
    from streams.cli.main import main as run

    run()
