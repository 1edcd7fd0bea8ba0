"""The `discogram` command line.

Each sub-command lives in its own module exposing ``add_parser(subparsers)``; the parser it
adds sets ``handler`` to a function taking the parsed arguments and returning an exit code.
Exit codes: 0 success, 1 the input was read but found wanting (e.g. `validate` found
problems), 2 bad input or usage — with the error lines on stderr and nothing on stdout —, and
141 when the reader of stdout went away (``| head``), quietly, as a Unix tool ended by SIGPIPE.
"""

from __future__ import annotations

import argparse
import os
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
        code = handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        # The reader went away (`discogram schema | head -1`): end quietly as Unix tools do.
        _silence_stdout()
        return _BROKEN_PIPE
    except RecursionError:
        # The readers refuse deep JSON naming the file; this is the backstop for any other.
        print("error: the input nests too deeply to read", file=sys.stderr)
        return 2
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


#: The exit status of a Unix tool ended by SIGPIPE (128 + 13), as a shell reports it.
_BROKEN_PIPE = 128 + 13


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the output still buffered is not flushed into the closed
    pipe at exit (Python would print "Exception ignored … BrokenPipeError")."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test's capture): nothing is flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
