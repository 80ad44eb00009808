"""The compliance report of a blueprint: per GDPR provision and per control, with evidence.

`build()` turns a scan, the control catalogue and the blueprint's spec into a typed `Report`;
`to_json`, `to_markdown` and `to_html` write it. Same inputs and the same `today` give the same
bytes in every format.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from generator.report.build import build, find_spec
from generator.report.html import to_html
from generator.report.markdown import to_markdown
from generator.report.model import (
    FAIL,
    INCOMPLETE,
    NO_FAILURES,
    NOT_APPLICABLE,
    NOT_EVIDENCED,
    PASS,
    Report,
)


def to_json(report: Report) -> str:
    """The report as JSON: a stable schema (`schema`), keys sorted, lists in report order."""
    return json.dumps(asdict(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


FORMATS = {"json": to_json, "markdown": to_markdown, "html": to_html}

__all__ = ["FAIL", "FORMATS", "INCOMPLETE", "NOT_APPLICABLE", "NOT_EVIDENCED", "NO_FAILURES",
           "PASS", "Report", "build", "find_spec", "to_html", "to_json", "to_markdown"]
