"""The GDPR provisions the report names (`data/provisions.yaml`): what each asks, and those no
infrastructure control can serve. Data, read once."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import yaml


@cache
def _data() -> dict[str, dict[str, str]]:
    text = resources.files("generator").joinpath("data/provisions.yaml").read_text("utf-8")
    raw = yaml.load(text, Loader=yaml.CSafeLoader)
    return {section: {str(k): " ".join(str(v).split()) for k, v in raw[section].items()}
            for section in ("provisions", "unassessed")}


def provisions() -> dict[str, str]:
    """Provision number (`32(1)(b)`) -> what it asks, paraphrased."""
    return _data()["provisions"]


def unassessed() -> dict[str, str]:
    """Provisions no infrastructure control can serve -> why the report leaves them to people."""
    return _data()["unassessed"]


def article_key(article: str) -> tuple:
    """Sort `5(1)(e)` < `5(2)` < `25(1)` < `32(1)(a)` < `44` as the Regulation numbers them."""
    parts = re.findall(r"[0-9]+|[a-z]+", article)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def label(article: str) -> str:
    """A provision as a DPO reads it: `Art. 32(1)(b)`."""
    return f"Art. {article}"
