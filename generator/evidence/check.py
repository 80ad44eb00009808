"""The base every check of the pack stands on, so that a check only judges.

A check names its id; its name, severity, category, the resource (or provider) types it judges
and its remediation are data (generator/data/checks.yaml, read by generator/checks.py). The
base does what every check did itself: skip what is not created (`count = 0`, an empty
`for_each`), say so when Checkov's HCL evaluation left `count`/`for_each` unexpanded, build the
check's `Scope` in either mode, leave out provider configurations nothing uses, and turn the
check's `Verdict` into Checkov's result.

A verdict is PASS, FAIL (with why), UNKNOWN (why the scan cannot tell, and what would make it
known) or NONE (nothing here to judge: no finding). Checkov reports only passed, failed and
skipped results, so an unknown reaches it as a failure whose details start with UNKNOWN_MARK:
plain Checkov runs fail closed on it, and this project's scan reports it as unknown
(generator/scan.py), which a report shows as NOT EVIDENCED, never as PASS.

Importing this module lifts Checkov's render limit and parse timeout (`lift_checkov_limits`).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, ClassVar

from checkov.common.bridgecrew.severities import BcSeverities, Severities
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.provider.base_check import BaseProviderCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.checks import UNKNOWN_MARK, CheckMeta, checks
from generator.evidence.graph import companions, missing_message
from generator.evidence.scope import Scope, provider_configured, provider_key
from generator.evidence.values import (
    HCL_ADVICE,
    HCL_UNRESOLVED,
    PLAN_ADVICE,
    PLAN_UNRESOLVED,
    has_no_instances,
    is_expanded,
)

NOT_EXPANDED = ("count/for_each not expanded by Checkov's HCL evaluation; scanning the plan "
                "(scan DIR --plan) lets Terraform expand it")

# ---- Checkov's limits ---------------------------------------------------------------------------
#
# Checkov leaves a value unrendered when its text is longer than CHECKOV_RENDER_MAX_LEN (10,000
# characters by default): the module then keeps `for_each` unexpanded. A blueprint's security
# group rules are one map that grows with the groups and flows of the spec, so a school platform
# of three groups already lost every rule to it. And it drops a .tf file whose parsing takes
# longer than HCL_PARSE_TIMEOUT_SEC (10 s): the main.tf of a blueprint of 30 groups takes ~3 s on
# a busy machine, one of 100 more. Checkov loads external checks before it parses and builds its
# graph, so the pack lifts both when it is loaded, unless the user set them. Under the render
# limit lies asteval's: Checkov evaluates each value's text with an asteval Interpreter, which
# refuses a statement over 50,000 characters, so a rule map of ~30 groups stayed text (its
# for_each unexpanded) though under the render limit; it is lifted with the render limit.
RENDER_MAX_LEN = 2_000_000
_ASTEVAL = "checkov.terraform.graph_builder.variable_rendering.safe_eval_functions"
_RENDER_LIMITS = (
    "checkov.terraform.graph_builder.variable_rendering.renderer",
    "checkov.terraform.graph_builder.variable_rendering.evaluate_terraform",
    "checkov.terraform.graph_builder.utils",
)
_CHECKOV_DEFAULT = 10_000


def lift_checkov_limits() -> None:
    """Let Checkov render values up to RENDER_MAX_LEN characters and parse files without a time
    limit, in its modules already imported and in those to come (the environment variables
    CHECKOV_RENDER_MAX_LEN and HCL_PARSE_TIMEOUT_SEC win when set)."""
    config = getattr(sys.modules.get("checkov.common.util.env_vars_config"), "env_vars_config", None)
    if "HCL_PARSE_TIMEOUT_SEC" not in os.environ:
        os.environ["HCL_PARSE_TIMEOUT_SEC"] = "0"  # 0: no time limit
        if config is not None:
            config.HCL_PARSE_TIMEOUT_SEC = 0
    if os.environ.get("CHECKOV_RENDER_MAX_LEN", str(RENDER_MAX_LEN)) != str(RENDER_MAX_LEN):
        return  # the user's limit
    os.environ["CHECKOV_RENDER_MAX_LEN"] = str(RENDER_MAX_LEN)
    for name in _RENDER_LIMITS:
        module = sys.modules.get(name)
        if getattr(module, "CHECKOV_RENDER_MAX_LEN", None) == _CHECKOV_DEFAULT:
            module.CHECKOV_RENDER_MAX_LEN = RENDER_MAX_LEN  # type: ignore[union-attr]
    if getattr(config, "RENDER_MAX_LEN", None) == _CHECKOV_DEFAULT:
        config.RENDER_MAX_LEN = RENDER_MAX_LEN  # type: ignore[union-attr]
    _lift_asteval_limit()


def _lift_asteval_limit() -> None:
    """Checkov's interpreters take statements up to RENDER_MAX_LEN characters (when its
    rendering module is imported: a scan imports it before the pack, and calls this again)."""
    module = sys.modules.get(_ASTEVAL)
    made = getattr(module, "get_asteval", None)
    if made is None or getattr(made, "lifted", False):
        return

    def get_asteval() -> Any:
        interpreter = made()
        interpreter.max_statement_length = RENDER_MAX_LEN
        return interpreter

    get_asteval.lifted = True  # type: ignore[attr-defined]
    module.get_asteval = get_asteval  # type: ignore[union-attr]


lift_checkov_limits()

# ---- metadata ---------------------------------------------------------------------------------


def guideline(check_id: str) -> str:
    """Link to the documentation of the (first) control the check evidences."""
    from generator.controls import DOCS_URL, controls_for_check

    found = controls_for_check(check_id)
    return found[0].url if found else DOCS_URL


def severity(level: str) -> Any:
    """Checkov's severity object for HIGH/MEDIUM/LOW/CRITICAL."""
    return Severities[getattr(BcSeverities, level)]


# ---- verdicts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What a check says about one block."""

    result: str  # "passed" | "failed" | "unknown" | "none"
    details: tuple[str, ...] = ()


PASS = Verdict("passed")
NONE = Verdict("none")


def passed(*said: str) -> Verdict:
    """PASS, saying what was found (a login and its last day, when a bucket's objects expire):
    the report shows it next to the pass."""
    return Verdict("passed", tuple(said))


def fail(*why: str) -> Verdict:
    """FAIL, saying what is wrong."""
    return Verdict("failed", tuple(why))


def unknown(why: str) -> Verdict:
    """UNKNOWN: the scan cannot tell; `why` says what is unknown and what would make it known."""
    return Verdict("unknown", (why,))


def in_mode(verdict: Verdict, scope: Scope) -> Verdict:
    """The verdict worded for the scan's mode: in plan mode an expression left unevaluated was
    read from the .tf source, and "scan the plan" is no advice."""
    if scope.plan is None:
        return verdict
    return Verdict(verdict.result, tuple(
        d.replace(HCL_UNRESOLVED, PLAN_UNRESOLVED).replace(HCL_ADVICE, PLAN_ADVICE)
        for d in verdict.details))


def _checkov_result(check: Any, verdict: Verdict) -> CheckResult:
    if verdict.result == "passed":
        check.details.extend(verdict.details)
        return CheckResult.PASSED
    if verdict.result == "none":
        return CheckResult.UNKNOWN  # Checkov reports nothing for it
    if verdict.result == "unknown":
        check.details.extend(UNKNOWN_MARK + d for d in verdict.details)
    else:
        check.details.extend(verdict.details)
    return CheckResult.FAILED


class _Metadata:
    """Name, severity, category and guideline from the check's metadata."""

    ID: ClassVar[str]

    @classmethod
    def meta(cls) -> CheckMeta:
        return checks()[cls.ID]

    def _init_kwargs(self) -> dict[str, Any]:
        meta = self.meta()
        return {"name": meta.name, "id": meta.id,
                "categories": [getattr(CheckCategories, meta.category)],
                "guideline": guideline(meta.id)}


class ResourceCheck(_Metadata, BaseResourceCheck):
    """A check of one resource block: subclasses set ID and implement `judge`."""

    # False for checks that judge a block whose count/for_each Checkov did not expand all the
    # same (what holds for every instance).
    NEEDS_EXPANSION: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__(supported_resources=list(self.meta().resources), **self._init_kwargs())
        self.severity = severity(self.meta().severity)

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN  # count = 0 or an empty for_each: nothing is created
        scope = Scope(self, conf)
        # A plan holds instances: Terraform has expanded every count and for_each.
        if scope.plan is None and self.NEEDS_EXPANSION and not is_expanded(conf):
            return _checkov_result(self, unknown(NOT_EXPANDED))
        return _checkov_result(self, in_mode(self.judge(scope), scope))

    def judge(self, scope: Scope) -> Verdict:
        """The verdict on the resource `scope` shows."""
        raise NotImplementedError


class ProviderCheck(_Metadata, BaseProviderCheck):
    """A check of one provider block: subclasses set ID and implement `judge`."""

    def __init__(self) -> None:
        super().__init__(supported_provider=list(self.meta().providers), **self._init_kwargs())
        self.severity = severity(self.meta().severity)

    def scan_entity_conf(self, conf: dict[str, Any], entity_type: str) -> CheckResult:
        scope = Scope(self, conf)
        if not provider_configured(scope, provider_key(scope.address)):
            return CheckResult.UNKNOWN  # an empty configuration nothing uses: nothing to judge
        return _checkov_result(self, in_mode(self.judge(scope, entity_type), scope))

    def scan_provider_conf(self, conf: dict[str, Any]) -> CheckResult:
        return self.scan_entity_conf(conf, "openstack")

    def judge(self, scope: Scope, provider: str) -> Verdict:
        """The verdict on the provider configuration `scope` shows (`provider`: its type)."""
        raise NotImplementedError


# ---- a bucket's companion resources -------------------------------------------------------------


def companion_check(check_id: str, companion: str, what: str) -> ResourceCheck:
    """The check that every bucket has a resource of type `companion` configuring it; `what`
    says what goes wrong without one."""

    class HasCompanion(ResourceCheck):
        ID = check_id

        def judge(self, scope: Scope) -> Verdict:
            found = companions(scope, companion)
            if found.linked:
                return PASS
            return fail(missing_message(companion, found, what))

    HasCompanion.__name__ = HasCompanion.__qualname__ = f"BucketHas_{companion}"
    return HasCompanion()
