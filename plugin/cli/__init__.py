"""The `discogram` command line.

Each sub-command lives in its own module exposing ``add_parser(subparsers)``; the parser it
adds sets ``handler`` to a function taking the parsed arguments and returning an exit code.
Exit codes: 0 success, 1 the input was read but found wanting (e.g. `validate` found
problems), 2 bad input or usage — with the error lines on stderr and nothing on stdout.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib import import_module

from plugin.errors import DiscographyError, InputProblemError

__all__ = ["CliError", "main"]

# Sub-command modules, in the order `discogram --help` lists them.
_COMMANDS = ("candidacy", "interpret", "report", "schema", "serve", "sandbox", "validate")


class CliError(Exception):
    """A usage or input error: printed as one line on stderr, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse prints usage plus the message; keep to one line on stderr, exit 2.
        raise CliError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="discogram",
        description="Provocative discography: interpretation, FHIR reports and the EHR plugin.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in _COMMANDS:
        module = import_module(f"plugin.cli.{name}")
        add_parser: Callable[[argparse._SubParsersAction[_Parser]], None] = module.add_parser
        add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except CliError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except InputProblemError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except DiscographyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
