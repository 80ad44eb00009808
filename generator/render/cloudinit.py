"""Per-instance-group cloud-init: features contribute parts, the merger makes one file.

A part names the measure it implements, the packages it needs, the files it writes and the
commands it runs (argv lists: no shell parses them). Spec values only ever reach a guest
inside data files serialised by `json`/`yaml` dumpers; the scripts themselves are static
package data. The merged file is plain `#cloud-config` YAML a reviewer can read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml

HEADER = "#cloud-config\n"


@dataclass(frozen=True)
class GuestFile:
    """A file cloud-init writes; `content` is final text (scripts are static package data)."""

    path: str
    content: str
    permissions: str = "0644"


@dataclass(frozen=True)
class Part:
    """What one feature adds to an instance group's first boot."""

    measure: str
    order: int
    packages: tuple[str, ...] = ()
    files: tuple[GuestFile, ...] = ()
    commands: tuple[tuple[str, ...], ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[str, ...] = ()  # finer-grained measure names; default: (measure,)
    # False: the part is no measure an instance claims in its metadata (Nova allows 255
    # characters there), e.g. the self-check, which tests the claims and is shown by its events.
    claimed: bool = True


@dataclass(frozen=True)
class GuestConfig:
    """What a feature's guest-configuration builder returns: what cloud-init must do on an
    instance for one measure (`part_from` turns it into a Part)."""

    packages: tuple[str, ...]
    files: tuple[tuple[str, str, str], ...]  # (guest path, content, octal mode)
    commands: tuple[tuple[str, ...], ...]  # argv lists, run in order at first boot
    measures: tuple[str, ...]  # evidence names for the instance's metadata


def part_from(measure: str, order: int, config: Any) -> Part:
    """A part from a guest-configuration builder's result (packages, files as (path, content,
    mode), commands, and optionally the finer `measures` it implements)."""
    return Part(measure=measure, order=order, packages=tuple(config.packages),
                files=tuple(GuestFile(path, content, mode) for path, content, mode in config.files),
                commands=tuple(config.commands), evidence=tuple(getattr(config, "measures", ())))


class MergeError(ValueError):
    """Two parts disagree (same file path or setting with different content)."""


def json_file(path: str, data: Any, permissions: str = "0644") -> GuestFile:
    """A guest data file: spec values go to the guest only this way (or as YAML)."""
    return GuestFile(path, json.dumps(data, indent=2, sort_keys=True) + "\n", permissions)


def merge(parts: Iterable[Part]) -> dict[str, Any]:
    """Merge parts into one cloud-config mapping, deterministically."""
    ordered = sorted(parts, key=lambda p: (p.order, p.measure))
    settings: dict[str, Any] = {}
    files: dict[str, GuestFile] = {}
    packages: set[str] = set()
    commands: list[list[str]] = []
    for part in ordered:
        for key, value in part.settings.items():
            if key in settings and settings[key] != value:
                raise MergeError(f"cloud-init setting {key!r} set differently by {part.measure}")
            settings[key] = value
        for guest_file in part.files:
            if guest_file.path in files and files[guest_file.path] != guest_file:
                raise MergeError(f"{guest_file.path} written differently by {part.measure}")
            files[guest_file.path] = guest_file
        packages.update(part.packages)
        commands.extend(list(c) for c in part.commands)
    config: dict[str, Any] = dict(settings)
    if packages:
        config["package_update"] = True
        config["packages"] = sorted(packages)
    if files:
        config["write_files"] = [_write_file(f) for f in files.values()]
    if commands:
        config["runcmd"] = commands
    return config


def _write_file(f: GuestFile) -> dict[str, str]:
    return {"path": f.path, "owner": "root:root", "permissions": f.permissions,
            "content": f.content}


# libyaml's emitter is required, not preferred: it is ~50x faster than PyYAML's pure-Python
# port, and the two fold long quoted lines differently, so a fallback would break "same spec,
# same bytes". It is also the safer one: it double-quotes text holding YAML 1.1 line breaks
# such as U+0085, which the pure-Python emitter puts in a block scalar that reads back changed.
# PyYAML's binary wheels (every mainstream platform) carry libyaml.
if not yaml.__with_libyaml__:
    raise ImportError("PyYAML was built without libyaml, which safespring-blueprints needs for "
                      "byte-identical cloud-init output: pip install --force-reinstall "
                      "--only-binary pyyaml pyyaml")


class _Dumper(yaml.CSafeDumper):
    """Block style for multi-line text so scripts stay readable in the file."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _yaml(value: Any) -> str:
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=False)


@cache
def _top_level(key: str, value_json: str) -> str:
    """One top-level key as YAML, dumped once per distinct value (groups repeat them)."""
    return _yaml({key: json.loads(value_json)})


@cache
def _write_file_entry(path: str, owner: str, permissions: str, content: str) -> str:
    """One `write_files` item as YAML. Every group carries the same large scripts, and
    PyYAML's emitter is pure Python: dumping each distinct item once keeps generation linear
    and fast (same bytes as dumping the whole document)."""
    return _yaml([{"path": path, "owner": owner, "permissions": permissions, "content": content}])


def dump(config: dict[str, Any], comment: Sequence[str] = ()) -> str:
    """`#cloud-config` text: a header, comment lines, then the YAML."""
    out = [HEADER + "".join(f"# {' '.join(line.split())}\n" for line in comment)]
    for key, value in config.items():
        if key == "write_files" and value:
            out.append(f"{key}:\n")
            out.extend(_write_file_entry(**entry) for entry in value)
        else:
            out.append(_top_level(key, json.dumps(value)))
    return "".join(out)


def measures(parts: Iterable[Part]) -> tuple[str, ...]:
    """The measures the parts implement, sorted: the evidence an instance's metadata records."""
    return tuple(sorted({m for p in parts if p.claimed for m in (p.evidence or (p.measure,))}))
