"""Command line: parse arguments, call the library, print, choose the exit code.

Exit codes: 0 success; 1 the action failed (e.g. output would lose edits, a check failed, a
report is FAIL or INCOMPLETE); 2 the spec or the command line was rejected; 3 a prerequisite is
missing (terraform not on PATH, a bad SAFESPRING_BLUEPRINTS_TF_MIRROR); 4 `apply` refused a plan
that deletes or replaces data not allowed with --allow-replace (nothing applied); 70 an internal error
(reported without a traceback unless SAFESPRING_BLUEPRINTS_DEBUG=1).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from generator import __version__, allow, api
from generator.allow import ALLOW_ENV, RECORD_FILE
from generator.errors import MissingPrerequisite
from generator.spec import SpecError
from generator.write import OutputError

if TYPE_CHECKING:
    from generator.terraform.run import Step


class UsageError(Exception):
    """A command-line argument the parser could not check by itself."""


EPILOG = """\
examples:
  safespring-blueprints generate my-service.yaml            # writes ./<name>/
  safespring-blueprints generate my-service.yaml -o infra/  # writes infra/
  safespring-blueprints schema > spec.schema.json           # for your editor

exit codes:
  0 success   1 the action failed (a check, a FAIL or INCOMPLETE report, edits in the way)
  2 the spec or the command line was rejected   3 a prerequisite is missing (terraform, a mirror)
  4 apply refused: the plan deletes or replaces data not allowed with --allow-replace
  70 an internal error (a bug: please report it)

The spec format is docs/spec.md in the project's repository (spec v1); `schema` prints it as
JSON Schema.
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
    update = commands.add_parser(
        "update", help="regenerate a blueprint, keeping your edits",
        description="Regenerate DIR from SPEC (default: the spec its manifest records, relative "
                    "to DIR) with this generator. Untouched files are replaced; a file you edited "
                    "is never overwritten: it is merged with the template change when git holds "
                    "the version it started from, else the new version goes beside it as "
                    "<file>.generated. --check only reports drift (exit 1 if DIR is not what SPEC "
                    "gives now, or a <file>.generated waits to be merged).")
    update.add_argument("directory", metavar="DIR",
                        help="the blueprint directory (holds .safespring-blueprints.json)")
    update.add_argument("spec", metavar="SPEC", nargs="?",
                        help="the spec to regenerate from (default: where the manifest records "
                             "it, relative to DIR; then <DIR>.yaml next to DIR); the manifest "
                             "then records this one")
    update.add_argument("--check", action="store_true", help="report drift, write nothing")
    update.add_argument("--today", metavar="YYYY-MM-DD", help="as for generate")
    commands.add_parser("schema", help="print the spec's JSON Schema",
                        description="Print the JSON Schema of spec v1 (for editors and CI).")
    validate = commands.add_parser(
        "validate", help="terraform fmt -check, init and validate a blueprint",
        description="Run `terraform fmt -check`, `init` and `validate` on DIR and report problems "
                    "with file and line. --offline validates against the OpenStack provider "
                    "3.0.0 schema served by a local schema-only provider (no network needed; "
                    "the real provider's value checks are not run).")
    validate.add_argument("directory", metavar="DIR")
    validate.add_argument("--offline", action="store_true",
                          help="use the project's schema-only OpenStack provider and local mirrors")
    for name, text in (("plan", "terraform init + plan a blueprint"),
                       ("apply", "terraform init + plan + apply a blueprint (asks for approval)")):
        more = {"plan": " A plan that deletes or replaces a volume, bucket or instance ends with a "
                        "DATA AT RISK section naming each.",
                "apply": " Plans to a file first; a plan that deletes or replaces a volume, "
                         "bucket or instance is refused (exit 4, nothing applied) unless each "
                         "address is named with --allow-replace; then exactly that plan is "
                         "applied, and who allowed what, when, is printed and appended to "
                         f"DIR/{RECORD_FILE} (or --record FILE)."}[name]
        sub = commands.add_parser(name, help=text, description=text + "." + more)
        sub.add_argument("directory", metavar="DIR")
        sub.add_argument("-var", dest="variables", action="append", default=[], metavar="NAME=VALUE",
                         help="a Terraform variable, e.g. -var key_pair=anna")
        sub.add_argument("--offline", action="store_true",
                         help="rehearse in a scratch copy against the schema-only OpenStack "
                              "provider, with DIR/terraform.tfstate as the state (no credentials)"
                         + ("; prints the planned resources" if name == "plan" else
                            "; records the planned values with generated IDs and writes the "
                            "state back to DIR/terraform.tfstate"))
        if name == "plan":
            sub.add_argument("-o", "--output", metavar="FILE",
                             help="also write the plan as JSON (`terraform show -json`, "
                                  "every sensitive string redacted), for `scan FILE` without "
                                  "planning again")
        if name == "apply":
            sub.add_argument("--auto-approve", action="store_true",
                             help="apply without asking (for pipelines with a manual gate)")
            sub.add_argument("--allow-replace", dest="allow_replace", action="append", default=[],
                             metavar="ADDRESS",
                             help="allow the plan to delete or replace this resource (repeat per "
                                  "address; back it up first)")
            sub.add_argument("--replace", dest="replace", action="append", default=[],
                             metavar="ADDRESS",
                             help="replace this resource (terraform -replace) and allow it, e.g. "
                                  "one instance to give it a new guest configuration")
            sub.add_argument("--record", metavar="FILE",
                             help=f"append allowances here (default DIR/{RECORD_FILE})")
            sub.add_argument("--s3-endpoint", metavar="URL",
                             help="with --offline: create the buckets on this S3 API (e.g. a "
                                  "MinIO or moto server on loopback) instead of Safespring "
                                  "Storage, which an offline rehearsal cannot reach")
    show_plan = commands.add_parser(
        "show-plan", help="a saved plan as JSON with every sensitive value redacted",
        description="Run `terraform show -json PLAN` in DIR and write the planned changes with "
                    "every sensitive value (sensitive variables, attributes and outputs) "
                    "replaced by \"(sensitive)\". A plan file holds those values in clear: "
                    "publish this for review, never the plan file. --same-as exits 1 unless the "
                    "plan makes exactly the changes of a document reviewed earlier.")
    show_plan.add_argument("directory", metavar="DIR", help="the initialised blueprint")
    show_plan.add_argument("plan", metavar="PLAN", help="a plan file from `terraform plan -out`")
    show_plan.add_argument("-o", "--output", metavar="FILE", help="write here, not stdout")
    show_plan.add_argument("--same-as", metavar="FILE",
                           help="the reviewed document this plan must equal (exit 1 if not); "
                                "then a plan that deletes or replaces data is refused (exit 4) "
                                "unless each address is allowed")
    show_plan.add_argument("--allow-replace", dest="allow_replace", action="append", default=[],
                           metavar="ADDRESS",
                           help="with --same-as: allow the plan to delete or replace this "
                                f"resource (also ${ALLOW_ENV}, addresses separated by spaces)")
    show_plan.add_argument("--record", metavar="FILE",
                           help=f"with --same-as: append allowances here (default DIR/{RECORD_FILE})")
    scan = commands.add_parser(
        "scan", help="scan Terraform with the GDPR policy pack (Checkov, in-process)",
        description="Scan PATH with the GDPR policy pack and Checkov's built-in Terraform checks "
                    "(offline). PATH is a directory (its .tf files as Checkov evaluates them, and "
                    "everything under it) or a plan JSON (`terraform show -json PLANFILE`; its "
                    "findings point into the .tf files next to it). --plan has Terraform plan "
                    "the directory and scans that plan: every value Terraform knows at plan "
                    "time is judged, not guessed. Exit 1 on any failed check (or when Terraform "
                    "cannot plan); a skip without a written reason counts as a failure.")
    scan.add_argument("directory", metavar="PATH", nargs="?",
                      help="the blueprint directory or a plan JSON (default: the current "
                           "directory, if it is a blueprint: it holds .safespring-blueprints.json)")
    scan.add_argument("--plan", action="store_true",
                      help="plan the directory with Terraform and scan the plan")
    scan.add_argument("--offline", action="store_true",
                      help="with --plan: plan a scratch copy against the schema-only OpenStack "
                           "provider and local mirrors (no network, no credentials)")
    scan.add_argument("-var", dest="variables", action="append", default=[], metavar="NAME=VALUE",
                      help="with --plan: a Terraform variable of the root module")
    scan.add_argument("--format", choices=("cli", "json", "sarif", "junit"), default="cli",
                      help="cli: failures and skips with reasons (default); json: every finding; "
                           "sarif: failures for code scanning, paths relative to the git "
                           "repository's root (else to PATH); junit: one test case per finding")
    scan.add_argument("-o", "--output", metavar="FILE",
                      help="write the result here, not stdout (the summary still goes to stderr)")
    scan.add_argument("--show-passed", action="store_true", help="list passed checks too (cli)")
    report = commands.add_parser(
        "report", help="the compliance report of a blueprint (HTML, Markdown, JSON)",
        description="Scan DIR and write its compliance report: per GDPR provision and control, "
                    "PASS / FAIL / NOT EVIDENCED / NOT APPLICABLE with the evidence, justified "
                    "skips, the review date, a diagram and an annex for the record of processing. "
                    "The spec is the one the blueprint's manifest records (relative to DIR). "
                    "Exit 1 when the verdict is FAIL, or INCOMPLETE (no readable spec: the "
                    "annex, the diagram and the review date need it).")
    report.add_argument("directory", metavar="DIR")
    report.add_argument("-o", "--output", metavar="PATH",
                        help="a directory (report.html, report.md, report.json) or one file whose "
                             "suffix (.html, .md, .json) picks the format; default: Markdown on "
                             "stdout")
    report.add_argument("--spec", metavar="FILE",
                        help="the spec (default: where the manifest records it, relative to DIR; "
                             "then <DIR>.yaml next to DIR)")
    report.add_argument("--today", metavar="YYYY-MM-DD", help="date for review and expiry checks")
    check = commands.add_parser(
        "check", help="the CI one-liner: generate, validate, plan, scan, report",
        description="Generate SPEC's blueprint (into a temporary directory, or -o DIR), validate "
                    "and plan it with Terraform offline (one init; the schema-only OpenStack "
                    "provider, no credentials), scan the plan with the GDPR pack and write the "
                    "compliance report. Exit 0 only if every step passed.")
    check.add_argument("spec", metavar="SPEC")
    check.add_argument("-o", "--output", metavar="DIR",
                       help="write the blueprint here (default: a temporary directory)")
    check.add_argument("--report-dir", metavar="DIR",
                       help="where the report goes (default: ./<name>-compliance/)")
    check.add_argument("--online", action="store_true",
                       help="validate with the real providers from the registry first (the plan "
                            "stays offline: it needs no credentials)")
    check.add_argument("--today", metavar="YYYY-MM-DD", help="as for generate")
    commands.add_parser(
        "pack-path", help="print the GDPR policy pack's directory (for checkov --external-checks-dir)",
        description="Print the directory of the GDPR policy pack, to add it to a Checkov run of "
                    "your own: checkov -d DIR --external-checks-dir \"$(safespring-blueprints "
                    "pack-path)\". Run the checkov installed next to safespring-blueprints: the "
                    "checks import this package.")
    commands.add_parser(
        "controls", help="list the control catalogue (control -> GDPR provisions -> checks)",
        description="List the controls: what each means on Safespring, the GDPR provisions it "
                    "serves, the modules that implement it and the checks that evidence it.",
    ).add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _scan(args: argparse.Namespace) -> int:
    from generator import scan
    from generator.git import repository_prefix
    from generator.write import MANIFEST, read_manifest

    target = Path(args.directory) if args.directory else Path.cwd()
    if not target.exists():
        raise UsageError(f"{args.directory} is neither a directory nor a plan JSON file")
    if args.directory is None and read_manifest(target) is None:
        raise UsageError(f"give PATH: the current directory holds no {MANIFEST}, so it is no "
                         "blueprint (without PATH, scan checks the blueprint you are in, never a "
                         "whole tree)")
    if target.is_file() and (args.plan or args.offline or args.variables):
        raise UsageError(f"{args.directory} is a plan file already: --plan, --offline and -var "
                         "apply to a directory")
    if (args.offline or args.variables) and not args.plan:
        raise UsageError("--offline and -var apply with --plan only")
    print(f"scanning {args.directory or '.'}{' (plan)' if args.plan else ''} ...",
          file=sys.stderr, flush=True)
    try:
        result = api.scan(target, plan=args.plan, offline=args.offline,
                          variables=_variables(args.variables))
    except api.PlanFailed as failed:
        progress = _Progress()
        for failed_step in failed.checks.steps:
            progress(failed_step.name, failed_step)
        print(f"safespring-blueprints: {failed}", file=sys.stderr)
        return 1
    except ValueError as error:  # a file that is not a plan JSON
        raise UsageError(str(error)) from None
    if args.format == "sarif":
        base = target if target.is_dir() else target.parent
        text = scan.to_sarif(result, uri_prefix=repository_prefix(base) or "")
    else:
        render = {"cli": lambda r: scan.to_text(r, show_passed=args.show_passed),
                  "json": scan.to_json, "junit": scan.to_junit}[args.format]
        text = render(result)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    if args.output or args.format != "cli":  # the cli text ends with the same line
        print(scan.summary_line(result) + (f"; wrote {args.output}" if args.output else ""),
              file=sys.stderr)
    return 0 if result.ok else 1


def _pack_path(_: argparse.Namespace) -> int:
    from generator.policies import DIRECTORY

    print(DIRECTORY)
    return 0


def _controls(args: argparse.Namespace) -> int:
    from generator import controls

    catalogue = controls.controls()
    if args.format == "json":
        print(controls.to_json(catalogue))
    else:
        for control in catalogue:
            print(f"{control.id}  {control.title}")
            print(f"    GDPR: {', '.join(control.articles)}")
            print(f"    checks: {', '.join(control.checks) or '-'}")
            if control.fails_with:
                print(f"    also failed by: {', '.join(control.fails_with)}")
    return 0


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


def _update(args: argparse.Namespace) -> int:
    try:
        on = api.today(args.today)
    except ValueError:
        raise UsageError(f"--today {args.today!r} is not a date (YYYY-MM-DD)") from None
    checked, result = api.update(args.directory, args.spec, on=on, check_only=args.check)
    for warning in checked.warnings:
        print(f"warning: {warning.format(checked.file)}", file=sys.stderr)
    for line in result.lines():
        print(line)
    if args.check:
        print("up to date" if not result.drift else "drift: run `safespring-blueprints update`",
              file=sys.stderr)
        return 1 if result.drift else 0
    kept = len(result.kept_edits) + len(result.conflicts) + len(result.pending)
    print(f"updated {args.directory}: {len(result.added) + len(result.updated)} written, "
          f"{len(result.unchanged)} unchanged, {kept} edits kept, {len(result.merged)} merged, "
          f"{len(result.removed)} removed",
          file=sys.stderr)
    return 0


def _schema(_: argparse.Namespace) -> int:
    from generator.spec.schema import schema_text

    sys.stdout.write(schema_text())
    return 0


class _Progress:
    """Prints each Terraform step on stderr when it starts and when it ends, with what went
    wrong, so a run of many seconds is never silent."""

    def __init__(self, indent: str = "") -> None:
        self.indent = indent
        self.started: dict[str, float] = {}

    def __call__(self, name: str, step: Step | None) -> None:
        now = time.monotonic()
        if step is None:
            self.started[name] = now
            print(f"{self.indent}{name} ...", file=sys.stderr, flush=True)
            return
        took = now - self.started.pop(name, now)
        lines = [f"{name}: {'ok' if step.ok else 'FAILED'} ({took:.1f} s)"]
        lines += [f"  {d.format()}" for d in step.diagnostics]
        if not step.ok and not step.diagnostics and step.output.strip():
            lines.append("  " + step.output.strip().replace("\n", "\n  "))
        print("\n".join(self.indent + line.replace("\n", "\n" + self.indent) for line in lines),
              file=sys.stderr, flush=True)


def _variables(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"-var {pair!r} is not NAME=VALUE")
        out[name] = value
    return out


def _validate(args: argparse.Namespace) -> int:
    checks = api.validate(args.directory, offline=args.offline, progress=_Progress())
    return 0 if checks.ok else 1


def _plan(args: argparse.Namespace) -> int:
    checks, data = api.plan(args.directory, offline=args.offline,
                            variables=_variables(args.variables), progress=_Progress())
    if args.offline:
        for change in data.get("resource_changes", []):
            print(f"{'+'.join(change['change']['actions'])} {change['address']}")
    print(allow.section(allow.risks(data), args.directory), end="")
    if args.output and checks.ok:
        import json

        from generator.terraform import review

        Path(args.output).write_text(json.dumps(review.redact_plan(data), ensure_ascii=False)
                                     + "\n", encoding="utf-8")
        print(f"wrote {args.output}: {review.summary(review.redact(data))} (sensitive values "
              f"redacted; scan it with: safespring-blueprints scan {args.output})", file=sys.stderr)
    return 0 if checks.ok else 1


def _confirm() -> bool:
    """Terraform's own question, asked of the saved plan (no terminal: not approved)."""
    try:
        answer = input("Apply this plan? Only 'yes' will be accepted: ")
    except EOFError:
        print("\nno answer (stdin closed): not applied; use --auto-approve in pipelines",
              file=sys.stderr)
        return False
    return answer.strip() == "yes"


def _apply(args: argparse.Namespace) -> int:
    import json

    if args.s3_endpoint and not args.offline:
        raise UsageError("--s3-endpoint applies with --offline only (online, the blueprint's "
                         "providers.tf names Safespring Storage)")
    done = api.apply(args.directory, auto_approve=args.auto_approve,
                     variables=_variables(args.variables), offline=args.offline,
                     allow_replace=tuple(args.allow_replace), replace=tuple(args.replace),
                     record_file=args.record, s3_endpoint=args.s3_endpoint,
                     confirm=_confirm, progress=_Progress())
    if args.offline:
        for step in done.checks.steps:
            if not step.ok:
                print(step.output[-4000:], file=sys.stderr)
            elif step.name == "apply":
                summary = [line for line in step.output.splitlines() if "Apply complete" in line]
                print(*(summary or ["applied"]), f"(offline rehearsal: state in {args.directory}/"
                      f"{api.STATE_FILE})")
    decision = done.decision
    if decision is not None:
        for address in decision.unused:
            print(f"warning: --allow-replace {address}: the plan does not delete or replace it",
                  file=sys.stderr)
    if done.refused:
        print(allow.refusal(decision), end="", file=sys.stderr)
        return 4
    if done.record is not None:
        where = args.record or str(Path(args.directory) / allow.RECORD_FILE)
        print(f"ALLOWED DATA LOSS (recorded in {where}):")
        print(json.dumps(done.record, indent=2, sort_keys=True))
    return 0 if done.ok else 1


def _show_plan(args: argparse.Namespace) -> int:
    import json

    from generator.terraform import review

    if not Path(args.directory).is_dir():
        raise UsageError(f"{args.directory} is not a directory")
    if not Path(args.plan).is_file():
        raise UsageError(f"{args.plan} is not a plan file")
    reviewed = None
    if args.same_as:
        try:
            reviewed = json.loads(Path(args.same_as).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"--same-as {args.same_as}: not a plan review document ({exc})") from None
    checks, doc = api.show_plan(args.directory, args.plan, progress=_Progress())
    if not checks.ok:
        return 1
    text = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}: {review.summary(doc)} (sensitive values redacted)",
              file=sys.stderr)
    else:
        sys.stdout.write(text)
    if reviewed is not None:
        differs = review.differences(reviewed, doc)
        if differs:
            print(f"the plan differs from the reviewed one ({args.same_as}): "
                  + "; ".join(differs[:10]) + ("; ..." if len(differs) > 10 else "")
                  + ". Plan and review again.", file=sys.stderr)
            return 1
        print(f"the plan is the reviewed one ({args.same_as})", file=sys.stderr)
        return _gate(args, doc)
    print(allow.section(allow.risks(doc), args.directory), end="", file=sys.stderr)
    return 0


def _gate(args: argparse.Namespace, doc: dict) -> int:
    """show-plan --same-as is the last step before `terraform apply PLAN` in the CI templates:
    the reviewed plan is refused (exit 4) while it deletes or replaces data not allowed by name
    (--allow-replace, or the CI variable SAFESPRING_BLUEPRINTS_ALLOW_REPLACE: addresses separated
    by spaces); an allowance is printed and recorded."""
    import json

    allowed = [*args.allow_replace, *os.environ.get(ALLOW_ENV, "").split()]
    decision = allow.decide(doc, allowed)
    where = Path(args.record or Path(args.directory) / allow.RECORD_FILE)
    where.touch()  # the CI keeps it as an artifact: present, if empty, when nothing was allowed
    for address in decision.unused:
        print(f"warning: allowed {address}, but the plan does not delete or replace it", file=sys.stderr)
    if decision.refused:
        print(allow.refusal(decision).replace(
            "allow each by name:", f"allow each by name (or list them in ${ALLOW_ENV}):"),
            end="", file=sys.stderr)
        return 4
    if any(r.address in decision.allowed for r in decision.found):
        entry = allow.record(decision, Path(args.directory))
        allow.write_record(entry, where)
        print(f"ALLOWED DATA LOSS (recorded in {where}):")
        print(json.dumps(entry, indent=2, sort_keys=True))
    return 0


def _report(args: argparse.Namespace) -> int:
    from generator.report import FAIL, FORMATS, INCOMPLETE

    if not Path(args.directory).is_dir():
        raise UsageError(f"{args.directory} is not a directory")
    try:
        on = api.today(args.today)
    except ValueError:
        raise UsageError(f"--today {args.today!r} is not a date (YYYY-MM-DD)") from None
    out = Path(args.output) if args.output else None
    suffixes = {".html": "html", ".htm": "html", ".md": "markdown", ".json": "json"}
    if out is not None and out.suffix not in suffixes:
        built, files = api.report(args.directory, out, spec_path=args.spec, on=on)
        print(f"wrote {', '.join(str(out / f) for f in files)}", file=sys.stderr)
    else:
        built = api.build_report(args.directory, spec_path=args.spec, on=on)
        text = FORMATS[suffixes[out.suffix] if out else "markdown"](built)
        if out:
            out.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    print(f"verdict: {built.verdict}", file=sys.stderr)
    if built.verdict == INCOMPLETE:
        for issue in built.spec_issues:
            print(f"  {issue.message}", file=sys.stderr)
        print("  the report is incomplete (exit 1): give the spec with --spec FILE",
              file=sys.stderr)
    return 1 if built.verdict in (FAIL, INCOMPLETE) else 0


# The generated blueprint's one input, needed to plan it; no check reads it.
CHECK_VARIABLES = {"key_pair": "safespring-blueprints-check"}


def report_steps(step: object, name: str, checks: api.TerraformChecks, started: float) -> None:
    """One `check` step line for a run of Terraform commands (their diagnostics were printed as
    each command ended)."""
    bad = [d.format() for s in checks.steps for d in s.diagnostics]
    failed = [s for s in checks.steps if not s.ok]
    detail = "; ".join(bad[:3]) or (f"{failed[0].name}: {failed[0].output.strip()[-300:]}" if failed else "")
    step(name, checks.ok, started, detail)  # type: ignore[operator]


def _check(args: argparse.Namespace) -> int:
    import tempfile

    from generator import scan

    try:
        on = api.today(args.today)
    except ValueError:
        raise UsageError(f"--today {args.today!r} is not a date (YYYY-MM-DD)") from None
    summary: list[tuple[str, bool, str]] = []

    def begin(name: str) -> float:
        print(f"{name} ...", file=sys.stderr, flush=True)
        return time.monotonic()

    def step(name: str, ok: bool, started: float, detail: str = "") -> bool:
        took = time.monotonic() - started
        summary.append((name, ok, detail))
        print(f"[{'ok' if ok else 'FAILED':>6}] {name} ({took:.1f} s){': ' + detail if detail else ''}",
              file=sys.stderr, flush=True)
        return ok

    with tempfile.TemporaryDirectory(prefix="ssb-check-") as tmp:
        started = begin("generate")
        target = Path(args.output) if args.output else Path(tmp) / "blueprint"
        done = api.generate(args.spec, target, on=on)
        for warning in done.warnings:
            print(f"warning: {warning.format(args.spec)}", file=sys.stderr)
        step("generate", True, started, str(done.target) if args.output else "")
        started = begin("validate + plan (offline)" if not args.online else "validate")
        # The scan judges Terraform's own plan, made offline (schema-only OpenStack provider, no
        # credentials) in the same scratch copy and `init` as validate. With --online, validate
        # runs against the real providers first.
        if args.online:
            checks = api.validate(done.target, offline=False, progress=_Progress("  "))
            report_steps(step, "validate", checks, started)
            started = begin("plan (offline)")
        planned, data = api.plan_data(done.target, offline=True, variables=CHECK_VARIABLES,
                                      validate=not args.online, progress=_Progress("  "))
        report_steps(step, "plan (offline)" if args.online else "validate + plan (offline)",
                     planned, started)
        started = begin("scan")
        if planned.ok:
            result = api.scan_plan_data(data, done.target)
            mode = "plan"
        else:
            result, mode = scan.scan(done.target), "HCL: Terraform could not plan"
        counts = result.summary
        step(f"scan ({mode})", result.ok, started, f"{counts.failed} failed, "
             + (f"{counts.unknown} unknown, " if counts.unknown else "")
             + f"{counts.passed} passed, {counts.skipped} skipped with a reason")
        for finding in result.findings:
            if finding.status in ("failed", "unknown"):
                mark = "FAIL" if finding.status == "failed" else "UNKNOWN"
                print(f"  {mark} {finding.check_id} {finding.resource} ({finding.file}:{finding.line})"
                      f" {', '.join(finding.controls)}", file=sys.stderr)
        report_dir = Path(args.report_dir) if args.report_dir else Path.cwd() / (
            f"{done.checked.spec.name}-compliance")
        started = begin("report")
        from generator.report import FAIL, INCOMPLETE

        built, written = api.report(done.target, report_dir, spec_path=args.spec, on=on,
                                    result=result)
        step("report", built.verdict not in (FAIL, INCOMPLETE), started,
             f"verdict {built.verdict}; {report_dir} ({', '.join(written)})")
    ok = all(passed for _, passed, _ in summary)
    print(f"{'PASSED' if ok else 'FAILED'}: {sum(p for _, p, _ in summary)}/{len(summary)} steps "
          f"passed for {args.spec}", file=sys.stderr)
    return 0 if ok else 1


HANDLERS = {"generate": _generate, "schema": _schema, "validate": _validate, "plan": _plan,
            "apply": _apply, "scan": _scan, "controls": _controls, "check": _check,
            "report": _report, "update": _update, "show-plan": _show_plan,
            "pack-path": _pack_path}


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
    except UsageError as exc:
        print(f"safespring-blueprints: {exc}", file=sys.stderr)
        return 2
    except OutputError as exc:
        print(f"safespring-blueprints: {exc}; nothing was changed", file=sys.stderr)
        return 1
    except MissingPrerequisite as exc:
        print(f"safespring-blueprints: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: no traceback reaches a user
        if os.environ.get("SAFESPRING_BLUEPRINTS_DEBUG"):
            raise
        print(f"safespring-blueprints: internal error: {type(exc).__name__}: {exc} "
              "(set SAFESPRING_BLUEPRINTS_DEBUG=1 for details; please report it)", file=sys.stderr)
        return 70
