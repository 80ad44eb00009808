"""The GDPR control catalogue (`data/controls.yaml`), typed, and its Markdown rendering.

The catalogue is the single place that says which check evidences which control and which
GDPR paragraph that control serves; the scan, the reports and `docs/controls.md` all read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

DOCS_URL = "https://github.com/safespring-blueprints/safespring-blueprints/blob/main/docs/controls.md"
# The committed rendering of the catalogue (checked by a test to equal controls_markdown()).
ROOT_DOC = Path(__file__).resolve().parent.parent / "docs" / "controls.md"
_ID = re.compile(r"^GDPR-[A-Z]{3}-[0-9]+$")
_CHECK_ID = re.compile(r"^CKV_GDPR_[0-9]+$")
# Paragraph-level citations only, e.g. 5(1)(e), 32(1)(b), 25(2), 44.
_ARTICLE = re.compile(r"^[0-9]+(\([0-9]+\)(\([a-z]\))?)?$")


@dataclass(frozen=True)
class Control:
    """One control: what it means on Safespring, what it serves in the GDPR, what evidences it."""

    id: str
    title: str
    safespring: str
    articles: tuple[str, ...]
    seed_citation: str | None  # what Safespring's GDPR page cites (the seed of the catalogue)
    modules: tuple[str, ...]
    checks: tuple[str, ...]
    gaps: str
    # Checks whose failure also fails this control, while their passes are no evidence for it
    # (e.g. a port other than 443 facing the internet is evidence against TLS in transit, but a
    # closed port is no evidence that anything uses TLS).
    fails_with: tuple[str, ...] = ()
    # A control of this project's own policy: no GDPR provision requires it (no articles).
    policy: bool = False

    @property
    def anchor(self) -> str:
        """The heading anchor of this control in docs/controls.md."""
        return self.id.lower()

    @property
    def url(self) -> str:
        """Where the control is documented (the checks' guideline link)."""
        return f"{DOCS_URL}#{self.anchor}"

    @property
    def article_labels(self) -> tuple[str, ...]:
        """Articles as a DPO reads them: `Art. 32(1)(b)`."""
        return tuple(f"Art. {a}" for a in self.articles)


def _load(text: str) -> tuple[Control, ...]:
    raw = yaml.load(text, Loader=yaml.CSafeLoader)
    out: list[Control] = []
    seen: set[str] = set()
    for entry in raw["controls"]:
        control = Control(
            id=entry["id"],
            title=" ".join(entry["title"].split()),
            safespring=" ".join(entry["safespring"].split()),
            articles=tuple(str(a) for a in entry["articles"]),
            seed_citation=entry.get("seed_citation"),
            modules=tuple(entry.get("modules") or ()),
            checks=tuple(entry.get("checks") or ()),
            gaps=" ".join((entry.get("gaps") or "").split()),
            fails_with=tuple(entry.get("fails_with") or ()),
            policy=bool(entry.get("policy")),
        )
        # A broken catalogue must fail loudly here, not produce a report citing nonsense.
        if not _ID.match(control.id) or control.id in seen:
            raise ValueError(f"controls.yaml: bad or duplicate control id {control.id!r}")
        bad = [a for a in control.articles if not _ARTICLE.match(a)]
        if bad or (not control.articles) != control.policy:
            raise ValueError(f"controls.yaml: {control.id} cites malformed articles {bad}, or none "
                             "without being a policy control (or some while being one)")
        bad = [c for c in (*control.checks, *control.fails_with) if not _CHECK_ID.match(c)]
        if bad or set(control.checks) & set(control.fails_with):
            raise ValueError(f"controls.yaml: {control.id} names malformed or repeated check ids "
                             f"{bad or sorted(set(control.checks) & set(control.fails_with))}")
        seen.add(control.id)
        out.append(control)
    return tuple(out)


@cache
def controls() -> tuple[Control, ...]:
    """Every control of the catalogue, in catalogue order (cached: data never changes in a run)."""
    text = resources.files("generator").joinpath("data/controls.yaml").read_text("utf-8")
    return _load(text)


def control(control_id: str) -> Control:
    """One control by id (KeyError if unknown)."""
    for c in controls():
        if c.id == control_id:
            return c
    raise KeyError(control_id)


def controls_for_check(check_id: str) -> tuple[Control, ...]:
    """The controls a check's result bears on: those it evidences, then those only its failure
    fails (empty for built-in Checkov checks)."""
    return (tuple(c for c in controls() if check_id in c.checks)
            + tuple(c for c in controls() if check_id in c.fails_with))


def check_ids() -> frozenset[str]:
    """Every check id the catalogue names."""
    return frozenset(cid for c in controls() for cid in (*c.checks, *c.fails_with))


def articles_for_check(check_id: str) -> tuple[str, ...]:
    """GDPR provisions a check's result bears on, deduplicated in catalogue order."""
    seen: dict[str, None] = {}
    for c in controls_for_check(check_id):
        for a in c.articles:
            seen.setdefault(a, None)
    return tuple(seen)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def controls_markdown() -> str:
    """docs/controls.md, generated from the catalogue (a test keeps the committed file equal)."""
    lines = [
        "# GDPR controls",
        "",
        "<!-- Generated from generator/data/controls.yaml by generator.controls.controls_markdown();"
        " do not edit. -->",
        "",
        "Each control says what it means on Safespring, which GDPR provisions it serves (paragraph",
        "level, Regulation (EU) 2016/679) and which checks of the policy pack evidence it. Where",
        "Safespring's GDPR page cites a different provision, its citation is shown too.",
        "",
        "| control | title | GDPR | checks |",
        "|---|---|---|---|",
    ]
    for c in controls():
        checks = ", ".join(f"`{x}`" for x in c.checks) or "none yet"
        lines.append(f"| [{c.id}](#{c.anchor}) | {_cell(c.title)} | "
                     f"{', '.join(c.article_labels) or 'policy'} | {checks} |")
    for c in controls():
        lines += ["", f"## {c.id}", "", f"**{c.title}**", "", c.safespring, ""]
        lines.append(f"- GDPR: {', '.join(c.article_labels)}" if c.articles else
                     "- GDPR: none: a policy of this project, not a requirement of the Regulation")
        if c.seed_citation:
            lines.append(f"- Safespring's GDPR page cites: {c.seed_citation}")
        lines.append(f"- Modules: {', '.join(f'`{m}`' for m in c.modules) or 'none'}")
        lines.append(f"- Checks: {', '.join(f'`{x}`' for x in c.checks) or 'none yet'}")
        if c.fails_with:
            lines.append(f"- Also failed by: {', '.join(f'`{x}`' for x in c.fails_with)} (a "
                         "failure counts against this control; a pass is no evidence for it)")
        if c.gaps:
            lines.append(f"- Not covered: {c.gaps}")
    return "\n".join(lines) + "\n"


def write_docs(path: Path = ROOT_DOC) -> Path:
    """Regenerate docs/controls.md from the catalogue."""
    path.write_text(controls_markdown(), "utf-8")
    return path


def to_json(catalogue: tuple[Control, ...]) -> str:
    """The catalogue as JSON (for `safespring-blueprints controls --format json`)."""
    import json
    from dataclasses import asdict

    return json.dumps([asdict(c) for c in catalogue], indent=2)
