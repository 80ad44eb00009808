"""Data at risk in a plan: the DATA AT RISK section `plan` prints, and `apply`'s gate.

`apply` refuses a plan that deletes or replaces a volume, bucket or instance, or loses data in
place (a shorter expiry, versioning suspended, a weaker lock, a detached volume: what
generator.evidence.change and generator.evidence.inplace find) unless every such address is
named with `--allow-replace`. What was allowed, by whom, for which plan and how the apply ended
goes to the allowance record (generator/record.py), so the pipeline's log and artifacts keep the
decision (Art. 5(2): the controller shows that the loss was decided, not suffered).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator.evidence.change import AtRisk, at_risk

ALLOW_ENV = "SAFESPRING_BLUEPRINTS_ALLOW_REPLACE"
"""Addresses (separated by spaces) the CI apply step allows to be deleted or replaced."""


def risks(plan: Mapping[str, Any]) -> list[AtRisk]:
    """What the plan (`terraform show -json`) deletes or replaces that holds data."""
    return at_risk(dict(plan))


def section(found: Iterable[AtRisk], directory: str = "DIR", options: Sequence[str] = ()) -> str:
    """The DATA AT RISK section of `plan`: what the plan deletes or replaces that holds data,
    and the `apply` command that would allow it, with the user's own options (`options`:
    --offline, -var ...) kept, so copying it does what the plan showed."""
    found = list(found)
    if not found:
        return ("DATA AT RISK: none (the plan deletes or replaces no volume, bucket or instance, "
                "and loses no data in place)\n")
    lines = ["", f"DATA AT RISK: this plan deletes, replaces or changes {len(found)} resource(s) "
             "so that data is lost",
             "(GDPR Art. 5(1)(f), 32(1)(b), 32(1)(c)):"]
    for r in found:
        verb = {"delete": "delete ", "update": "update ", "create": "create "}.get(r.action, r.action)
        lines.append(f"  {verb} {r.address}")
        lines.append(f"          {r.what}")
        if r.forced_by:
            lines.append(f"          forced by a change of: {', '.join(r.forced_by)}")
        if r.reason:
            lines.append(f"          why: {r.reason}")
    lines.append("`apply` refuses this plan unless each is allowed by name, after a backup:")
    lines.append("  " + command("apply", directory, options,
                                [a for r in found for a in ("--allow-replace", r.address)]))
    return "\n".join(lines) + "\n"


def command(verb: str, directory: str, options: Sequence[str], extra: Sequence[str] = ()) -> str:
    """A command line the user can paste: every word shell-quoted."""
    return " ".join(shlex.quote(word) for word in
                    ["safespring-blueprints", verb, directory, *options, *extra])


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


def refusal(decision: Decision, directory: str = "DIR", options: Sequence[str] = ()) -> str:
    """What `apply` prints when it refuses, with the command that would allow it."""
    lines = [f"apply refused: the plan deletes or replaces {len(decision.missing)} resource(s) that "
             "hold data and were not allowed:"]
    for r in decision.missing:
        lines.append(f"  {r.address}: {r.describe()}")
    allowed = [a for address in decision.allowed for a in ("--allow-replace", address)]
    lines.append("Nothing was applied. Back the data up, then allow each by name:")
    lines.append("  " + command("apply", directory, options, [
        *allowed, *[a for r in decision.missing for a in ("--allow-replace", r.address)]]))
    return "\n".join(lines) + "\n"


def allowed(decision: Decision) -> list[dict[str, Any]]:
    """What the decision allows, as the record keeps it (address, what it holds, why)."""
    return [r.as_dict() for r in decision.found if r.address in decision.allowed]
