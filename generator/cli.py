"""Command line: parse arguments, call the library, print, choose the exit code.

Exit codes: 0 success; 1 the action failed (e.g. output would lose edits, a check failed, a
report is FAIL or INCOMPLETE); 2 the spec or the command line was rejected; 3 a prerequisite is
missing (terraform not on PATH, a bad SAFESPRING_BLUEPRINTS_TF_MIRROR); 4 `apply` refused a plan
that deletes or replaces data not allowed with --allow-replace (nothing applied); 70 an internal error
(reported without a traceback unless SAFESPRING_BLUEPRINTS_DEBUG=1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from generator import __version__, allow, api
from generator.allow import ALLOW_ENV
from generator.errors import MissingPrerequisite
from generator.record import RECORD_FILE
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
                         "applied, and who allowed what, for which plan, when, and how the apply "
                         f"ended is printed and appended to DIR/{RECORD_FILE} (or --record "
                         "FILE), a hash-chained record readable by its owner only."}[name]
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
            sub.add_argument("--actor", metavar="NAME",
                             help="who allows the data loss, for the record (default: $GITHUB_ACTOR, "
                                  "$GITLAB_USER_LOGIN, ..., $USER; recorded as self-reported)")
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
    show_plan.add_argument("--actor", metavar="NAME",
                           help="with --same-as: who allows the data loss (default: $GITHUB_ACTOR, "
                                "$GITLAB_USER_LOGIN, ..., $USER; recorded as self-reported)")
    outcome = commands.add_parser(
        "record-outcome", help="record how the apply of an allowed plan ended (CI, after terraform apply)",
        description="Append how `terraform apply` ended to the allowance record, after the last "
                    "allowance that has none (show-plan --same-as wrote it before the apply). "
                    "Does nothing when no allowance is waiting. Exit 1 if the record's chain is "
                    "broken (the outcome is recorded all the same).")
    outcome.add_argument("directory", metavar="DIR")
    outcome.add_argument("--exit-code", dest="exit_code", type=int, required=True, metavar="N",
                         help="terraform apply's exit code")
    outcome.add_argument("--record", metavar="FILE", help=f"the record (default DIR/{RECORD_FILE})")
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
    scan.add_argument("--today", metavar="YYYY-MM-DD",
                      help="the date expiry checks judge against (default: SOURCE_DATE_EPOCH's "
                           "day, else today)")
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
    report.add_argument("--bundle", metavar="FILE",
                        help="also write the evidence bundle for auditors (a .tar.gz): the spec, "
                             "the blueprint's file hashes, this report, the scan (JSON, SARIF) "
                             "and the allowance record, listed with their SHA-256 in "
                             "MANIFEST.json")
    report.add_argument("--sign-key", metavar="KEY",
                        help="with --bundle: sign the manifest with this SSH private key "
                             "(ssh-keygen -Y sign, namespace safespring-blueprints-bundle)")
    verify_bundle = commands.add_parser(
        "verify-bundle", help="check an evidence bundle: hashes, signature, blueprint drift",
        description="Check every member of an evidence bundle against its manifest and name each "
                    "one missing, unlisted or changed; check the signature (and, with --signers, "
                    "who made it); with --blueprint, name the blueprint's files changed since. "
                    "Exit 1 if anything does not match.")
    verify_bundle.add_argument("bundle", metavar="FILE")
    verify_bundle.add_argument("--signers", metavar="FILE",
                               help="an allowed-signers file (ssh-keygen(1), ALLOWED SIGNERS): "
                                    "the signature must be by a key in it")
    verify_bundle.add_argument("--identity", metavar="NAME",
                               help="with --signers: the signer must be this principal")
    verify_bundle.add_argument("--blueprint", metavar="DIR",
                               help="compare the blueprint directory with the hashes the bundle "
                                    "recorded")
    report.add_argument("--evidence", metavar="FILE",
                        help="the log collector's export of the instances' self-checks "
                             "(`ssb-evidence export`, docs/evidence.md): adds what was last "
                             "verified in life per control and instance (a failed check fails "
                             "the report) and goes into the bundle")
    report.add_argument("--plan", metavar="PLAN.json",
                        help="a plan as JSON (plan -o, show-plan): its prior state says which "
                             "instances still run an older guest configuration (default: "
                             "DIR/terraform.tfstate when it is there; without either the report "
                             "says it describes the spec)")
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


def _on(args: argparse.Namespace) -> dt.date:
    """The day of `--today`, else SOURCE_DATE_EPOCH's, else the clock's."""
    try:
        return api.today(args.today)
    except ValueError:
        raise UsageError(f"--today {args.today!r} is not a date (YYYY-MM-DD)") from None


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
                          variables=_variables(args.variables), on=_on(args))
    except api.PlanFailed as failed:
        progress = _Progress()
        for failed_step in failed.checks.steps:
            progress(failed_step.name, failed_step)
        if not failed.checks.unavailable:
            print(f"safespring-blueprints: {failed}", file=sys.stderr)
            return 1
        # No offline schema for a provider: the HCL scan judges the root without a plan.
        print(f"scanning {args.directory or '.'} in HCL mode instead (no plan: "
              f"{', '.join(failed.checks.unavailable)} cannot be planned offline) ...",
              file=sys.stderr, flush=True)
        result = scan.scan(target)
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


def _options(args: argparse.Namespace) -> list[str]:
    """The user's options that a suggested command must keep (so it does what they saw)."""
    out = ["--offline"] if args.offline else []
    for pair in args.variables:
        out += ["-var", pair]
    if getattr(args, "s3_endpoint", None):
        out += ["--s3-endpoint", args.s3_endpoint]
    if getattr(args, "record", None):
        out += ["--record", args.record]
    return out


_VERB = {"create": "+ create ", "update": "~ update ", "delete": "- delete ", "replace": "-/+ replace",
         "read": "<= read  "}


def _changes(data: dict) -> list[str]:
    """One line per resource the plan changes (unchanged ones left out), then the counts."""
    from generator.terraform import review

    lines = []
    for change in data.get("resource_changes", []):
        actions = change["change"]["actions"]
        key = "replace" if set(actions) == {"create", "delete"} else "+".join(actions)
        if key != "no-op":
            lines.append(f"  {_VERB.get(key, key)} {change['address']}")
    unchanged = sum(c["change"]["actions"] == ["no-op"] for c in data.get("resource_changes", []))
    counts = review.summary({"resource_changes": [
        {"actions": c["change"]["actions"]} for c in data.get("resource_changes", [])]})
    lines.append(f"Plan: {counts}; {unchanged} unchanged")
    return lines


def _plan(args: argparse.Namespace) -> int:
    checks, data = api.plan(args.directory, offline=args.offline,
                            variables=_variables(args.variables), progress=_Progress())
    if not checks.ok:
        _explain_failure(checks, args)
        return 1
    if args.offline:
        print("\n".join(_changes(data)))
    else:
        print("(Terraform's plan file above was temporary: `safespring-blueprints apply` plans "
              "again and applies exactly what you approve)")
    print(allow.section(allow.risks(data), args.directory, _options(args)), end="")
    if args.output and checks.ok:
        import json

        from generator.terraform import review

        Path(args.output).write_text(json.dumps(review.redact_plan(data), ensure_ascii=False)
                                     + "\n", encoding="utf-8")
        print(f"wrote {args.output}: {review.summary(review.redact(data))} (sensitive values "
              f"redacted; scan it with: safespring-blueprints scan {args.output})", file=sys.stderr)
    return 0 if checks.ok else 1


def _confirm(offline: bool) -> Callable[[dict, object], bool]:
    """Terraform's own question, asked of the saved plan, after showing it offline (online,
    Terraform printed it); no terminal: not approved."""

    def confirm(data: dict, decision: object) -> bool:
        if offline:
            print("\n".join(_changes(data)), file=sys.stderr)
        try:
            answer = input("Apply this plan? Only 'yes' will be accepted: ")
        except EOFError:
            print("\nno answer (stdin closed): not applied; use --auto-approve in pipelines",
                  file=sys.stderr)
            return False
        return answer.strip() == "yes"

    return confirm


class _TerraformLines:
    """Terraform's progress during an offline apply, as it prints it: each resource's creating,
    still creating and complete lines and any error; blank lines and the outputs' values (which
    follow "Outputs:") are left out."""

    def __init__(self) -> None:
        self.outputs = False

    def __call__(self, line: str) -> None:
        self.outputs = self.outputs or line.startswith("Outputs:")
        if line.strip() and not self.outputs:
            print(f"  {line}", file=sys.stderr, flush=True)


# What Terraform says when the aws provider cannot reach Safespring Storage from a rehearsal.
_UNREACHABLE = ("no such host", "dial tcp", "lookup s3.", "connection refused", "i/o timeout")


def _explain_failure(checks: api.TerraformChecks, args: argparse.Namespace, *,
                     streamed: bool = False) -> None:
    """Why a Terraform step failed, whole lines of it (never cut mid-word), and what to do."""
    for step in checks.steps:
        if step.ok:
            continue
        text = step.output.strip()
        lines = text.splitlines()
        shown = [] if streamed and step.name == "apply" else lines[-60:]  # apply's were shown live
        if len(lines) > len(shown) and shown:
            print(f"  ... ({len(lines) - len(shown)} earlier lines of `terraform {step.name}` left out)",
                  file=sys.stderr)
        for line in shown:
            print(f"  {line}", file=sys.stderr)
        if (getattr(args, "offline", False) and not getattr(args, "s3_endpoint", None)
                and any(marker in text for marker in _UNREACHABLE)):
            print("hint: the aws provider tried to reach Safespring Storage, which an offline "
                  "rehearsal cannot: give --s3-endpoint URL (a local MinIO or moto_server) to "
                  "create the buckets there", file=sys.stderr)


def _apply(args: argparse.Namespace) -> int:
    import json

    from generator import record

    if args.s3_endpoint and not args.offline:
        raise UsageError("--s3-endpoint applies with --offline only (online, the blueprint's "
                         "providers.tf names Safespring Storage)")
    if args.actor is not None and not args.actor.strip():
        raise UsageError("--actor is empty: name who allows the data loss")
    where = Path(args.record) if args.record else Path(args.directory) / RECORD_FILE
    if where.is_file():
        kept = record.verify(where.read_bytes())
        for problem in kept.problems:
            print(f"warning: {where}: {problem}", file=sys.stderr)
    done = api.apply(args.directory, auto_approve=args.auto_approve,
                     variables=_variables(args.variables), offline=args.offline,
                     allow_replace=tuple(args.allow_replace), replace=tuple(args.replace),
                     record_file=args.record, s3_endpoint=args.s3_endpoint,
                     actor=record.actor(args.actor), confirm=_confirm(args.offline),
                     progress=_Progress(), output=_TerraformLines())
    decision = done.decision
    if decision is not None:
        for address in decision.unused:
            print(f"warning: --allow-replace {address}: the plan does not delete or replace it",
                  file=sys.stderr)
    if done.nobody:
        print("apply refused: the plan deletes or replaces data you allowed, and the record must "
              "say who allowed it, but nobody could be named ($GITHUB_ACTOR, $GITLAB_USER_LOGIN, "
              "$USER ... are unset or empty). Nothing was applied; give --actor NAME.",
              file=sys.stderr)
        return 4
    if done.refused:
        print(allow.refusal(decision, args.directory, _options(args)), end="", file=sys.stderr)
        return 4
    if not done.checks.ok:
        _explain_failure(done.checks, args, streamed=args.offline)
    elif done.plan is not None:
        print(allow.section(allow.risks(done.plan), args.directory, _options(args)), end="",
              file=sys.stderr)
        if args.offline:
            summary = [line for s in done.checks.steps if s.name == "apply"
                       for line in s.output.splitlines() if "Apply complete" in line]
            print(*(summary or ["applied"]), f"(offline rehearsal: state in {args.directory}/"
                  f"{api.STATE_FILE})")
    if done.record is not None:
        print(f"ALLOWED DATA LOSS (recorded in {where}, entry {done.record['seq']}):")
        print(json.dumps(done.record, indent=2, sort_keys=True))
        if done.outcome is not None:
            print(f"outcome: {done.outcome['result']} (exit {done.outcome['exit_code']}), recorded "
                  f"as entry {done.outcome['seq']}; chain head sha256:"
                  f"{record.verify(where.read_bytes()).head}")
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

    from generator import record

    allowed = [*args.allow_replace, *os.environ.get(ALLOW_ENV, "").split()]
    decision = allow.decide(doc, allowed)
    where = Path(args.record or Path(args.directory) / RECORD_FILE)
    record.touch(where)  # the CI keeps it as an artifact: present, if empty, when nothing was allowed
    for address in decision.unused:
        print(f"warning: allowed {address}, but the plan does not delete or replace it", file=sys.stderr)
    if decision.refused:
        print(allow.refusal(decision, ".").replace(
            "allow each by name:", f"allow each by name (or list them in ${ALLOW_ENV}):"),
            end="", file=sys.stderr)
        return 4
    found = allow.allowed(decision)
    if found:
        who = record.actor(args.actor)
        if who is None:
            print("refused: the plan deletes or replaces data that was allowed, and the record must "
                  "say who allowed it, but nobody could be named ($GITHUB_ACTOR, "
                  "$GITLAB_USER_LOGIN, ... are unset or empty): give --actor NAME", file=sys.stderr)
            return 4
        entry = record.append(where, record.allowed_entry(found, Path(args.directory), who,
                                                          record.plan_digest(doc)))
        print(f"ALLOWED DATA LOSS (recorded in {where}, entry {entry['seq']}; record the apply's "
              "outcome with `safespring-blueprints record-outcome`):")
        print(json.dumps(entry, indent=2, sort_keys=True))
    return 0


def _record_outcome(args: argparse.Namespace) -> int:
    from generator import record

    where = Path(args.record) if args.record else Path(args.directory) / RECORD_FILE
    waiting = record.pending_allowance(where)
    if waiting is None:
        print(f"{where}: no allowance waits for an outcome; nothing recorded", file=sys.stderr)
        return 0
    entry = record.append(where, record.outcome_entry(waiting, args.exit_code))
    checked = record.verify(where.read_bytes())
    print(f"{where}: outcome of allowance {waiting}: {entry['result']} (exit {args.exit_code}), "
          f"entry {entry['seq']}; chain head sha256:{checked.head}", file=sys.stderr)
    for problem in checked.problems:
        print(f"warning: {where}: {problem}", file=sys.stderr)
    return 0 if checked.ok else 1


def _plan_document(path: str | None) -> dict | None:
    """The plan given with --plan, for the bundle (redacted there)."""
    if path is None:
        return None
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"--plan {path}: not a plan as JSON ({exc})") from None


def _report(args: argparse.Namespace) -> int:
    from generator.report import FAIL, FORMATS, INCOMPLETE

    if not Path(args.directory).is_dir():
        raise UsageError(f"{args.directory} is not a directory")
    try:
        on = api.today(args.today)
    except ValueError:
        raise UsageError(f"--today {args.today!r} is not a date (YYYY-MM-DD)") from None
    if args.sign_key and not args.bundle:
        raise UsageError("--sign-key signs the evidence bundle: give --bundle FILE too")
    if args.sign_key and not Path(args.sign_key).is_file():
        raise UsageError(f"--sign-key {args.sign_key}: no such key file")
    if args.plan is not None and not Path(args.plan).is_file():
        raise UsageError(f"--plan {args.plan}: no such file (a plan as JSON: plan -o FILE)")
    if args.evidence is not None:
        from generator.report.life import EvidenceError
        from generator.report.life import load as load_evidence

        if not Path(args.evidence).is_file():
            raise UsageError(f"--evidence {args.evidence}: no such file (the output of "
                             "`ssb-evidence export` on the log collector)")
        try:
            load_evidence(args.evidence)
        except EvidenceError as exc:
            raise UsageError(f"--evidence {exc}") from None
    # With --bundle the scan is made here so the bundle holds the very findings the report
    # rests on, and the bundle is written before the report: a key that cannot sign changes
    # nothing.
    result = api.scan(args.directory) if args.bundle else None
    built = api.build_report(args.directory, spec_path=args.spec, on=on, result=result,
                             plan=args.plan, evidence=args.evidence)
    if args.bundle:
        from generator.bundle import BundleError

        try:
            digest = api.bundle(args.directory, args.bundle, built, result, spec_path=args.spec,
                                plan=_plan_document(args.plan), sign_key=args.sign_key,
                                evidence=args.evidence)
        except BundleError as exc:
            raise OutputError(str(exc)) from None
        print(f"wrote {args.bundle} (manifest sha256:{digest}"
              f"{', signed' if args.sign_key else ', unsigned'})", file=sys.stderr)
    out = Path(args.output) if args.output else None
    suffixes = {".html": "html", ".htm": "html", ".md": "markdown", ".json": "json"}
    if out is not None and out.suffix not in suffixes:
        files = api.write_report(built, out)
        print(f"wrote {', '.join(str(out / f) for f in files)}", file=sys.stderr)
    else:
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


def _verify_bundle(args: argparse.Namespace) -> int:
    from generator.bundle import BundleError, verify

    if args.identity and not args.signers:
        raise UsageError("--identity names a signer in --signers FILE: give --signers too")
    for option, path in (("bundle", args.bundle), ("--signers", args.signers)):
        if path and not Path(path).is_file():
            raise UsageError(f"{option} {path}: no such file")
    if args.blueprint and not Path(args.blueprint).is_dir():
        raise UsageError(f"--blueprint {args.blueprint} is not a directory")
    try:
        found = verify(Path(args.bundle), allowed_signers=Path(args.signers) if args.signers else None,
                       identity=args.identity, blueprint=Path(args.blueprint) if args.blueprint else None)
    except BundleError as exc:
        print(f"safespring-blueprints: {exc}", file=sys.stderr)
        return 1
    print(f"{args.bundle}: {found.members} members, made {found.created} by safespring-blueprints "
          f"{found.version}, manifest sha256:{found.manifest_sha256}")
    if found.signer:
        print(f"signed by {found.signer} (checked against {args.signers})")
    for note in found.notes:
        print(f"note: {note}")
    for problem in found.problems:
        print(f"MISMATCH {problem}")
    print("OK: every member is what the manifest lists" if found.ok
          else f"FAILED: {len(found.problems)} mismatch(es)")
    return 0 if found.ok else 1


# The generated blueprint's one input, needed to plan it; no check reads it. Given only where the
# blueprint declares it (Terraform's TF_VAR_ rule), whatever variables a blueprint has.
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
        planned, data = api.plan_data(done.target, offline=True, inputs=CHECK_VARIABLES,
                                      validate=not args.online, progress=_Progress("  "))
        report_steps(step, "plan (offline)" if args.online else "validate + plan (offline)",
                     planned, started)
        started = begin("scan")
        if planned.ok:
            result = api.scan_plan_data(data, done.target, on=on)
            mode = "plan"
        else:
            result, mode = scan.scan(done.target, today=on), "HCL: Terraform could not plan"
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
            "pack-path": _pack_path, "verify-bundle": _verify_bundle,
            "record-outcome": _record_outcome}


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


def run() -> None:
    """The command as a process (`safespring-blueprints`, `python -m generator`): main(), then
    the exit handlers and the flush a normal exit runs, then an immediate exit.

    What a normal exit adds after that is freeing every object left: Checkov's graph of a
    scanned root is millions of them, ~0.5 s of a 3 s scan, for a process whose output is
    already written and closed. Threads that are not daemons are joined first, as at a normal
    exit. In-process callers (tests, the API) use main() and keep their interpreter."""
    import atexit
    import threading

    code = main()
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    # Private but stable since Python 3.0 (multiprocessing's children end the same way): the
    # handlers interpreter exit runs, logging's flush and weakref finalizers among them.
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe: the output is lost, as Python's own exit then says (120)
        code = code or 120
    os._exit(code)
