"""The measure registry (`data/measures.yaml`): the one vocabulary of evidence tokens.

Instances carry their measures in metadata `ssb_measures` joined by commas; buckets in tags
`ssb_measures` joined by spaces (S3 tag values allow no commas). Both forms are written here
and read here, and a name that is not in the registry is refused when it is written, so a
producer and a consumer cannot drift apart by a typo.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

METADATA_KEY = "ssb_measures"  # the key in instance metadata and bucket tags
_SEPARATOR = re.compile(r"[,\s]+")


@dataclass(frozen=True)
class Measure:
    """One registered measure: where it is recorded and what it means for a reader."""

    name: str
    resource: str  # instance | bucket: where it is recorded
    means: str


@cache
def registry() -> dict[str, Measure]:
    """Every registered measure by name (cached: the data never changes in a run)."""
    text = resources.files("generator").joinpath("data/measures.yaml").read_text("utf-8")
    raw = yaml.load(text, Loader=yaml.CSafeLoader)["measures"]
    out = {}
    for name, entry in raw.items():
        if not re.fullmatch(r"[a-z][a-z0-9-]*[a-z0-9]", name) or entry["resource"] not in (
                "instance", "bucket"):
            raise ValueError(f"measures.yaml: bad measure {name!r}")
        out[name] = Measure(name=name, resource=entry["resource"],
                            means=" ".join(entry["means"].split()))
    return out


def require(names: Iterable[str], on: str | None = None) -> tuple[str, ...]:
    """The names sorted and deduplicated; ValueError for one the registry does not know (or
    that is recorded on another kind of resource)."""
    known = registry()
    out = sorted(set(names))
    for name in out:
        if name not in known or (on is not None and known[name].resource != on):
            raise ValueError(f"measure {name!r} is not registered for {on or 'any resource'} "
                             "in generator/data/measures.yaml")
    return tuple(out)


def for_metadata(names: Iterable[str]) -> str:
    """Instance metadata form: `a,b,c`."""
    return ",".join(require(names, "instance"))


def for_tags(names: Iterable[str]) -> str:
    """Bucket tag form: `a b c`."""
    return " ".join(require(names, "bucket"))


def parse(text: str) -> set[str]:
    """The names in either form (what a reader of metadata or tags gets)."""
    return {m for m in _SEPARATOR.split(text) if m}
