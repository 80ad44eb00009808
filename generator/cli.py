"""Command line: parse arguments, call the library, print, choose the exit code.

Exit codes: 0 success; 1 the action failed (e.g. output would lose edits); 2 the spec or the
command line was rejected; 70 an internal error (reported without a traceback unless
SAFESPRING_BLUEPRINTS_DEBUG=1).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from generator import __version__, api
from generator.spec import SpecError
from generator.write import OutputError

EPILOG = """\
examples:
  safespring-blueprints generate my-service.yaml            # writes ./<name>/
  safespring-blueprints generate my-service.yaml -o infra/  # writes infra/
  safespring-blueprints schema > spec.schema.json           # for your editor

The spec format is described in the README (spec v1); `schema` prints it as JSON Schema.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="safespring-blueprints",
        description="Turn a short YAML spec into a GDPR-aligned Terraform blueprint for Safespring.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    generate = commands.add_parser(
        "generate", help="validate a spec and write its blueprint",
        description="Validate SPEC (schema and GDPR rules) and write its Terraform blueprint. "
                    "A rejected spec writes nothing.")
    generate.add_argument("spec", metavar="SPEC", help="the spec file (YAML)")
    generate.add_argument("-o", "--output", metavar="DIR",
                          help="where to write the blueprint (default: ./<name>/)")
    generate.add_argument("--today", metavar="YYYY-MM-DD",
                          help="date to check expiry rules against (default: SOURCE_DATE_EPOCH "
                               "or today)")
    generate.add_argument("--force", action="store_true",
                          help="overwrite edited generated files / write into a foreign directory")
    commands.add_parser("schema", help="print the spec's JSON Schema",
                        description="Print the JSON Schema of spec v1 (for editors and CI).")
    return parser


def _generate(args: argparse.Namespace) -> int:
    try:
        on = api.today(args.today)
    except ValueError:
        print(f"safespring-blueprints: --today {args.today!r} is not a date (YYYY-MM-DD)",
              file=sys.stderr)
        return 2
    done = api.generate(args.spec, args.output, on=on, force=args.force)
    for warning in done.warnings:
        print(f"warning: {warning.format(args.spec)}", file=sys.stderr)
    result = done.result
    print(f"wrote {done.target} ({len(result.written)} files written, {len(result.unchanged)} "
          f"unchanged, {len(result.removed)} removed)")
    return 0


def _schema(_: argparse.Namespace) -> int:
    from generator.spec.schema import schema_text

    sys.stdout.write(schema_text())
    return 0


HANDLERS = {"generate": _generate, "schema": _schema}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `safespring-blueprints` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help(sys.stderr)
        return 2
    try:
        return HANDLERS[args.command](args)
    except SpecError as exc:
        for problem in exc.problems:
            print(problem.format(exc.file), file=sys.stderr)
        print(f"{exc.file}: rejected ({len(exc.problems)} problem"
              f"{'s' if len(exc.problems) != 1 else ''}); nothing was written", file=sys.stderr)
        return 2
    except OutputError as exc:
        print(f"safespring-blueprints: {exc}; nothing was changed", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: no traceback reaches a user
        if os.environ.get("SAFESPRING_BLUEPRINTS_DEBUG"):
            raise
        print(f"safespring-blueprints: internal error: {type(exc).__name__}: {exc} "
              "(set SAFESPRING_BLUEPRINTS_DEBUG=1 for details; please report it)", file=sys.stderr)
        return 70
