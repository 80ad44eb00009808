"""Last verified in life: the log collector's evidence export against the blueprint.

`report --evidence FILE` reads the document `ssb-evidence export` prints on the collector
(format `ssb-evidence/1`, docs/evidence.md): per instance and measure, the latest self-check
result (ssb-verify, hourly) and the last success. Each instance the blueprint has and each
measure its group claims that ssb-verify checks becomes a row: FAIL when the latest check
failed, NOT EVIDENCED when it could not tell or is older than its period (its age said), PASS
only for a fresh success. Ages are measured against the export's own time, never the report's
clock, so the report never claims more than the file shows; an instance that never reported
is named.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from generator.report.model import FAIL, NOT_EVIDENCED, PASS, Life, LifeRow

FORMAT = "ssb-evidence/1"
# A check is fresh within its period plus this: the timer's start after boot and the delivery
# to the collector (a slack, not a promise: a check past it is NOT EVIDENCED, its age said).
SLACK = dt.timedelta(minutes=15)
_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")


class EvidenceError(ValueError):
    """The evidence file is not an ssb-evidence/1 export: the message says what is wrong."""


@dataclass(frozen=True)
class SelfCheck:
    measure: str
    control: str
    checks: str


@cache
def self_checks() -> dict[str, SelfCheck]:
    """The measures ssb-verify checks, and their controls (data/self_checks.yaml)."""
    text = resources.files("generator").joinpath("data/self_checks.yaml").read_text("utf-8")
    raw = yaml.load(text, Loader=yaml.CSafeLoader)["checks"]
    return {m: SelfCheck(m, e["control"], " ".join(e["checks"].split())) for m, e in raw.items()}


def _time(value: object, where: str) -> dt.datetime:
    if not isinstance(value, str) or not _TIME.match(value):
        raise EvidenceError(f"{where}: {value!r} is not a UTC time (YYYY-MM-DDTHH:MM:SSZ)")
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def load(path: str | Path) -> dict:
    """The export, checked field by field (EvidenceError names the first thing wrong)."""
    name = Path(path).name
    try:
        doc = json.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise EvidenceError(f"{name}: cannot read it ({exc})") from None
    except ValueError as exc:
        raise EvidenceError(f"{name}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise EvidenceError(f"{name}: format: not {FORMAT!r} (the output of `ssb-evidence "
                            "export` on the log collector)")
    _time(doc.get("exported_at"), f"{name}: exported_at")
    instances = doc.get("instances")
    if not isinstance(instances, list):
        raise EvidenceError(f"{name}: instances: must be a list")
    for i, entry in enumerate(instances):
        where = f"{name}: instances[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) \
                or not isinstance(entry.get("measures"), dict):
            raise EvidenceError(f"{where}: needs a name and measures")
        for measure, result in entry["measures"].items():
            at = f"{where}.measures.{measure}"
            if not isinstance(result, dict) or result.get("result") not in ("ok", "fail",
                                                                             "unknown"):
                raise EvidenceError(f"{at}.result: must be ok, fail or unknown")
            _time(result.get("checked_at"), f"{at}.checked_at")
            if result.get("last_ok") is not None:
                _time(result["last_ok"], f"{at}.last_ok")
            period = result.get("period_seconds")
            if isinstance(period, bool) or not isinstance(period, int) or period <= 0:
                raise EvidenceError(f"{at}.period_seconds: must be a positive integer")
    return doc


def _age(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def _row(instance: str, group: str, check: SelfCheck, entries: list[dict],
         exported: dt.datetime) -> LifeRow:
    reported = [(e["measures"][check.measure], e) for e in entries
                if check.measure in e["measures"]]
    if not reported:
        return LifeRow(instance, group, check.measure, check.control, NOT_EVIDENCED, None, None,
                       "the instance reported no result for this measure")
    result, entry = max(reported, key=lambda r: r[0]["checked_at"])
    others = sorted({e.get("address", "?") for _, e in reported} - {entry.get("address", "?")})
    also = (f" (also reported from {', '.join(others)}: the latest is from "
            f"{entry.get('address', '?')})") if others else ""
    checked = _time(result["checked_at"], "checked_at")
    age = exported - checked
    detail = str(result.get("detail", ""))
    when = f"checked {result['checked_at']}, {_age(age)} before the export"
    if result["result"] == "fail":
        return LifeRow(instance, group, check.measure, check.control, FAIL, result["checked_at"],
                       result.get("last_ok"), f"failed: {detail} ({when}){also}")
    if age > dt.timedelta(seconds=result["period_seconds"]) + SLACK:
        return LifeRow(instance, group, check.measure, check.control, NOT_EVIDENCED,
                       result["checked_at"], result.get("last_ok"),
                       f"the latest check is older than its period of "
                       f"{_age(dt.timedelta(seconds=result['period_seconds']))} ({when}; it "
                       f"said {result['result']}){also}")
    if result["result"] == "unknown":
        return LifeRow(instance, group, check.measure, check.control, NOT_EVIDENCED,
                       result["checked_at"], result.get("last_ok"),
                       f"the check could not tell: {detail} ({when}){also}")
    return LifeRow(instance, group, check.measure, check.control, PASS, result["checked_at"],
                   result.get("last_ok"), f"{detail} ({when}){also}")


def life(doc: dict, source: str, instances: dict[str, tuple[str, tuple[str, ...]]]) -> Life:
    """The rows for `instances` (name -> (group, its claimed measures)) from the export."""
    exported = _time(doc["exported_at"], "exported_at")
    by_name: dict[str, list[dict]] = {}
    for entry in doc["instances"]:
        by_name.setdefault(entry["name"], []).append(entry)
    checks = self_checks()
    rows: list[LifeRow] = []
    never: list[str] = []
    for name in sorted(instances):
        group, claimed = instances[name]
        entries = by_name.get(name, [])
        if not entries:
            never.append(name)
            continue
        rows += [_row(name, group, checks[m], entries, exported)
                 for m in sorted(claimed) if m in checks]
    return Life(source=source, exported_at=doc["exported_at"],
                collector=str(doc.get("collector", "")), rows=tuple(rows),
                never_reported=tuple(never),
                not_in_blueprint=tuple(sorted(set(by_name) - set(instances))))
