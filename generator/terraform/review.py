"""A saved plan as a document safe to publish for review: every sensitive value redacted.

A plan file (`terraform plan -out`) and its `terraform show -json` hold sensitive values in
clear: sensitive variables, attributes the provider marks sensitive (an application
credential's secret once it exists), sensitive outputs, and the prior state. CI must never
publish the plan file. What it may publish is this review document: the planned changes
with every value Terraform marks sensitive replaced by "(sensitive)", and, as a second line
of defence, any other string equal to (or containing) one of those values replaced too.

The document holds nothing that differs between two plans of the same changes (no timestamp,
no prior state), so a pipeline can plan again just before applying and refuse to apply
unless the new plan's document equals the one a person reviewed (`differences`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

FORMAT = "safespring-blueprints plan review 1"
REDACTED = "(sensitive)"
# Sensitive strings this short are redacted where they are, but not searched for elsewhere
# (a secret "true" must not blank every "true" in the plan).
_MIN_SEARCH = 6


def _mask(value: Any, sensitive: Any) -> Any:
    """`value` with every part `sensitive` (Terraform's mirror structure) marks redacted."""
    if sensitive is True:
        return None if value is None else REDACTED
    if isinstance(sensitive, dict) and isinstance(value, dict):
        return {k: _mask(v, sensitive.get(k, False)) for k, v in value.items()}
    if isinstance(sensitive, list) and isinstance(value, list):
        return [_mask(v, sensitive[i] if i < len(sensitive) else False)
                for i, v in enumerate(value)]
    return value


def _secrets(value: Any, sensitive: Any) -> Iterator[str]:
    """Every string leaf of `value` under a sensitive mark (numbers and bools are left out)."""
    if sensitive is True:
        yield from _leaves(value)
    elif isinstance(sensitive, dict) and isinstance(value, dict):
        for k, v in value.items():
            yield from _secrets(v, sensitive.get(k, False))
    elif isinstance(sensitive, list) and isinstance(value, list):
        for i, v in enumerate(value):
            yield from _secrets(v, sensitive[i] if i < len(sensitive) else False)


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)


def _module_values(module: dict[str, Any]) -> Iterator[str]:
    """Sensitive strings of a planned_values / prior_state module tree."""
    for resource in module.get("resources", []):
        yield from _secrets(resource.get("values"), resource.get("sensitive_values", False))
    for child in module.get("child_modules", []):
        yield from _module_values(child)


def _all_secrets(plan: dict[str, Any], sensitive_vars: set[str]) -> set[str]:
    found: set[str] = set()
    for name in sensitive_vars:
        found.update(_leaves((plan.get("variables") or {}).get(name, {}).get("value")))
    for key in ("resource_changes", "resource_drift"):
        for rc in plan.get(key) or []:
            change = rc.get("change") or {}
            found.update(_secrets(change.get("before"), change.get("before_sensitive", False)))
            found.update(_secrets(change.get("after"), change.get("after_sensitive", False)))
    for change in (plan.get("output_changes") or {}).values():
        found.update(_secrets(change.get("before"), change.get("before_sensitive", False)))
        found.update(_secrets(change.get("after"), change.get("after_sensitive", False)))
    for key in ("planned_values", "prior_state"):
        section = plan.get(key) or {}
        values = section.get("values", section)  # prior_state nests under "values"
        for output in (values.get("outputs") or {}).values():
            if output.get("sensitive"):
                found.update(_leaves(output.get("value")))
        if values.get("root_module"):
            found.update(_module_values(values["root_module"]))
    return {s for s in found if s and s != REDACTED}


def _scrub(value: Any, secrets: set[str]) -> Any:
    """Replace strings that are, or contain, a sensitive value found anywhere in the plan."""
    if isinstance(value, str):
        if value in secrets or any(len(s) >= _MIN_SEARCH and s in value for s in secrets):
            return REDACTED
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    return value


def _change(rc: dict[str, Any]) -> dict[str, Any]:
    change = rc.get("change") or {}
    out = {key: rc[key] for key in ("address", "mode", "type", "name", "index", "provider_name",
                                    "action_reason") if key in rc}
    out["actions"] = change.get("actions", [])
    if change.get("replace_paths"):
        out["replace_paths"] = change["replace_paths"]  # what forces a replacement
    out["before"] = _mask(change.get("before"), change.get("before_sensitive", False))
    out["after"] = _mask(change.get("after"), change.get("after_sensitive", False))
    out["after_unknown"] = change.get("after_unknown", False)
    return out


def redact(plan: dict[str, Any]) -> dict[str, Any]:
    """The review document of a `terraform show -json` plan: changes only, no secret in it."""
    declared = (((plan.get("configuration") or {}).get("root_module") or {})
                .get("variables") or {})
    sensitive_vars = {name for name, v in declared.items() if v.get("sensitive")}
    variables = {name: REDACTED if name in sensitive_vars else v.get("value")
                 for name, v in sorted((plan.get("variables") or {}).items())}
    outputs = {}
    for name, change in sorted((plan.get("output_changes") or {}).items()):
        outputs[name] = {
            "actions": change.get("actions", []),
            "before": _mask(change.get("before"), change.get("before_sensitive", False)),
            "after": _mask(change.get("after"), change.get("after_sensitive", False)),
            "after_unknown": change.get("after_unknown", False),
        }
    doc = {
        "format": FORMAT,
        "terraform_version": plan.get("terraform_version"),
        "variables": variables,
        "resource_changes": [_change(rc) for rc in plan.get("resource_changes") or []],
        "resource_drift": [_change(rc) for rc in plan.get("resource_drift") or []],
        "output_changes": outputs,
    }
    return _scrub(doc, _all_secrets(plan, sensitive_vars))


def redact_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """The whole `terraform show -json` plan, every sensitive string replaced wherever it appears:
    what `plan -o` writes, so `scan FILE` judges the plan without planning again (a review
    document has no planned_values to scan). Sensitive numbers and booleans stay as they are."""
    declared = (((plan.get("configuration") or {}).get("root_module") or {})
                .get("variables") or {})
    sensitive_vars = {name for name, v in declared.items() if v.get("sensitive")}
    return _scrub(plan, _all_secrets(plan, sensitive_vars))


def summary(doc: dict[str, Any]) -> str:
    """`3 to create, 1 to update` style count of the planned resource changes."""
    counts: dict[str, int] = {}
    for rc in doc["resource_changes"]:
        actions = rc["actions"]
        key = ("replace" if set(actions) == {"create", "delete"} else "+".join(actions))
        counts[key] = counts.get(key, 0) + 1
    counts.pop("no-op", None)
    counts.pop("read", None)
    return ", ".join(f"{n} to {action}" for action, n in sorted(counts.items())) or "no changes"


def differences(reviewed: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between a reviewed document and a new one (empty: the same plan)."""
    if reviewed == now:
        return []
    out: list[str] = []
    if reviewed.get("format") != now.get("format"):
        out.append(f"format: {reviewed.get('format')!r} != {now.get('format')!r}")
    for key in ("terraform_version", "variables", "output_changes"):
        if reviewed.get(key) != now.get(key):
            out.append(key)
    for key in ("resource_changes", "resource_drift"):
        before = {rc.get("address"): rc for rc in reviewed.get(key) or []}
        after = {rc.get("address"): rc for rc in now.get(key) or []}
        for address in sorted(set(before) | set(after), key=str):
            if before.get(address) != after.get(address):
                out.append(f"{key}: {address}")
    return out or ["the documents differ"]
