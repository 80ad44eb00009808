"""Data at risk in a plan: the DATA AT RISK section `plan` prints, and `apply`'s gate.

`apply` refuses a plan that deletes or replaces a volume, bucket or instance (what
generator.evidence.change finds) unless every such address is named with
`--allow-replace`. What was allowed, by whom and when is printed and appended to a JSON-lines
file, so the pipeline's log and artifacts keep the decision (Art. 5(2): the controller shows
that the loss was decided, not suffered).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.evidence.change import AtRisk, at_risk

RECORD_FILE = "allowed-replacements.jsonl"
"""Where `apply` appends what was allowed (in the blueprint directory unless --record says)."""
ALLOW_ENV = "SAFESPRING_BLUEPRINTS_ALLOW_REPLACE"
"""Addresses (separated by spaces) the CI apply step allows to be deleted or replaced."""
# Who ran apply: the CI systems' own variables first, then the login.
_WHO = ("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_REQUESTEDFOREMAIL", "USER", "LOGNAME")


def risks(plan: Mapping[str, Any]) -> list[AtRisk]:
    """What the plan (`terraform show -json`) deletes or replaces that holds data."""
    return at_risk(dict(plan))


def section(found: Iterable[AtRisk], directory: str = "DIR") -> str:
    """The DATA AT RISK section of `plan` ("" when nothing is at risk)."""
    found = list(found)
    if not found:
        return ""
    lines = ["", f"DATA AT RISK: this plan deletes or replaces {len(found)} resource(s) that hold data",
             "(GDPR Art. 5(1)(f), 32(1)(b), 32(1)(c)):"]
    for r in found:
        verb = "delete " if r.action == "delete" else "replace"
        lines.append(f"  {verb} {r.address}")
        lines.append(f"          {r.what}")
        if r.forced_by:
            lines.append(f"          forced by a change of: {', '.join(r.forced_by)}")
        if r.reason:
            lines.append(f"          why: {r.reason}")
    lines.append("`apply` refuses this plan unless each is allowed by name, after a backup:")
    allowances = " ".join(f"--allow-replace '{r.address}'" for r in found)
    lines.append(f"  safespring-blueprints apply {directory} {allowances}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Decision:
    """`apply`'s verdict on one plan."""

    found: tuple[AtRisk, ...]
    allowed: tuple[str, ...]  # as given on the command line

    @property
    def missing(self) -> tuple[AtRisk, ...]:
        """At risk and not allowed: apply refuses while any is left."""
        return tuple(r for r in self.found if r.address not in self.allowed)

    @property
    def unused(self) -> tuple[str, ...]:
        """Allowed addresses the plan does not put at risk (a typo, or an older plan)."""
        at = {r.address for r in self.found}
        return tuple(a for a in self.allowed if a not in at)

    @property
    def refused(self) -> bool:
        return bool(self.missing)


def decide(plan: Mapping[str, Any], allowed: Iterable[str]) -> Decision:
    return Decision(tuple(risks(plan)), tuple(allowed))


def refusal(decision: Decision) -> str:
    """What `apply` prints when it refuses."""
    lines = [f"apply refused: the plan deletes or replaces {len(decision.missing)} resource(s) that "
             "hold data and were not allowed:"]
    for r in decision.missing:
        lines.append(f"  {r.address}: {r.describe()}")
    lines.append("Nothing was applied. Back the data up, then allow each by name: "
                 + " ".join(f"--allow-replace '{r.address}'" for r in decision.missing))
    return "\n".join(lines) + "\n"


def who(environ: Mapping[str, str] | None = None) -> str:
    """Who is applying: the CI actor ($GITHUB_ACTOR, $GITLAB_USER_LOGIN, ...) or the login."""
    env = os.environ if environ is None else environ
    for name in _WHO:
        if env.get(name):
            return f"{env[name]} (${name})"
    return "unknown (no $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER)"


def record(decision: Decision, directory: Path, *, now: dt.datetime | None = None,
           environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The allowance as data: what was allowed, why it was at risk, by whom, when."""
    when = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
    return {"when": when, "who": who(environ), "directory": str(directory),
            "allowed": [r.as_dict() for r in decision.found if r.address in decision.allowed]}


def write_record(entry: Mapping[str, Any], path: Path) -> None:
    """Append one allowance to the JSON-lines record (created if absent)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
