"""The configuration files the generator writes are the ones the guest programs read.

Each guest program defines the JSON file it reads: the builder on its generator side (not
installed, see ssb_guest/__init__.py) sits next to the loader that reads the file, and the
generator calls the builder instead of spelling the keys. Here every such file that generation
writes, for the bundled blueprints and the spec fixtures, goes through the program's own
reader and must come back with the values written; a key renamed in the file (on either side:
a builder writing another name, or a reader expecting one) must make that fail.
"""

from __future__ import annotations

import ast
import copy
import json
import symtable
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

import ssb_guest
from generator import blueprint
from generator.spec import check_file
from ssb_guest import backup, egress_proxy, luks_tang, verify
from tests.conftest import FIXTURES, ROOT, TODAY

SPECS = sorted([*(ROOT / "blueprints").glob("*.yaml"), *(FIXTURES / "specs").glob("*.yaml")])
Reader = Callable[[Path, pytest.MonkeyPatch], Any]


def _urls(pins: list[dict[str, str]]) -> list[str]:
    return [pin["url"] for pin in pins]


def _luks_tang(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    got = luks_tang.load_config(str(path))
    return {"packages": got["packages"], "tang_servers": _urls(got["pins"]),
            "threshold": got["threshold"], "volumes": got["volumes"]}


def _backup(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.delenv("SSB_BACKUP_ENDPOINT", raising=False)
    got = backup.load_config(str(path))
    return {"version": 1, **{k: got[k] for k in ("endpoint", "bucket", "schedule", "keep",
                                                 "paths", "system_paths", "threshold")},
            "tang_servers": _urls(got["pins"])}


def _egress_proxy(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    return egress_proxy.load_config(str(path))


def _endpoints(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What ssb-verify's tls-endpoint check connects to, read by the check itself (every
    handshake stubbed to fail, which it explains by the certificate kind it read)."""
    asked: list[tuple[int, str]] = []

    def no_handshake(address: str, port: int, hostname: str) -> bytes:
        asked.append((port, hostname))
        raise OSError("stub")

    monkeypatch.setenv("SSB_ENDPOINTS", str(path))
    monkeypatch.setattr(verify, "unit_state", lambda unit: "active")
    monkeypatch.setattr(verify, "_served_certificate", no_handshake)
    found = verify.check_tls_endpoint()
    if found.result != "fail":
        raise ValueError(found.detail)
    said = {part.split(": ", 1)[0]: part for part in found.detail.split("; ")}
    kinds = ["acme" if "no ACME certificate" in said[hostname] else "provided"
             for _, hostname in asked]
    return {"port": asked[0][0] if asked else None,
            "endpoints": [{"hostname": h, "certificate": k}
                          for (_, h), k in zip(asked, kinds, strict=True)]}


def _endpoints_written(doc: Any) -> Any:
    # `name` is for whoever reads the file: ssb-verify connects by hostname, so it is not read.
    return {"port": doc["port"], "endpoints": [{k: e[k] for k in ("hostname", "certificate")}
                                               for e in doc["endpoints"]]}


def _backup_written(doc: Any) -> Any:
    # The program keeps the keep entries that keep something (a 0 is the same as none).
    return {**doc, "keep": {k: v for k, v in doc["keep"].items() if v}}


# Guest path -> (the program's reader, the written file as the reader gives it back).
READERS: dict[str, tuple[Reader, Callable[[Any], Any]]] = {
    luks_tang.ENV_DEFAULTS["SSB_LUKS_CONFIG"]: (_luks_tang, lambda doc: doc),
    "/" + backup.ENV_DEFAULTS["SSB_BACKUP_CONFIG"]: (_backup, _backup_written),
    egress_proxy.CONFIG: (_egress_proxy, lambda doc: doc),
    verify.ENV_DEFAULTS["SSB_ENDPOINTS"]: (_endpoints, _endpoints_written),
}
# Keys no reader reads: renaming them is not refused (and changes nothing in the guest).
UNREAD = {(verify.ENV_DEFAULTS["SSB_ENDPOINTS"], ("endpoints", 0, "name"))}


@cache
def written() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Guest path -> [(spec/group, the file's content)] for every configuration generated."""
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {path: [] for path in READERS}
    for spec in SPECS:
        files = blueprint.render(check_file(spec, TODAY).spec)
        for name, content in sorted(files.items()):
            if not (name.startswith("cloud-init/") and name.endswith(".yaml")):
                continue
            for item in yaml.safe_load(content).get("write_files", []):
                if item["path"] in READERS:
                    out[item["path"]].append((f"{spec.stem}/{Path(name).stem}",
                                              json.loads(item["content"])))
    return out


def _read(path: str, doc: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    file = tmp_path / "config.json"
    file.write_text(json.dumps(doc), "utf-8")
    return READERS[path][0](file, monkeypatch)


def _key_paths(doc: Any, at: tuple = ()) -> Iterator[tuple]:
    """Every key of the document, nested ones (in objects and lists of objects) included."""
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) \
        else ()
    for key, value in items:
        if isinstance(key, str):
            yield (*at, key)
        yield from _key_paths(value, (*at, key))


def _renamed(doc: Any, key_path: tuple) -> Any:
    out = copy.deepcopy(doc)
    parent = out
    for step in key_path[:-1]:
        parent = parent[step]
    parent[f"{key_path[-1]}_renamed"] = parent.pop(key_path[-1])
    return out


def test_every_program_configuration_is_generated_somewhere() -> None:
    for path, found in written().items():
        assert found, f"no bundled blueprint or spec fixture writes {path}"


@pytest.mark.parametrize("path", sorted(READERS))
def test_the_program_reads_back_every_generated_configuration(
        path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for where, doc in written()[path]:
        assert _read(path, doc, tmp_path, monkeypatch) == READERS[path][1](doc), where


def _renames() -> list[Any]:
    cases = []
    for path, found in written().items():
        doc = found[0][1]
        cases += [pytest.param(path, key_path, id=f"{Path(path).name}:{'.'.join(map(str, key_path))}")
                  for key_path in _key_paths(doc) if (path, key_path) not in UNREAD]
    return cases


@pytest.mark.parametrize(("path", "key_path"), _renames())
def test_a_renamed_key_is_refused(path: str, key_path: tuple, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _renamed(written()[path][0][1], key_path)
    try:
        got = _read(path, doc, tmp_path, monkeypatch)
    except (luks_tang.SetupError, backup.BackupError, egress_proxy.SetupError, ValueError):
        return
    assert got != READERS[path][1](written()[path][0][1]), "the renamed key went unnoticed"


def test_ssb_verify_reads_the_luks_configuration_where_ssb_luks_tang_does() -> None:
    assert verify.ENV_DEFAULTS["SSB_LUKS_CONFIG"] == luks_tang.ENV_DEFAULTS["SSB_LUKS_CONFIG"]


def _globals_used(source: str, name: str) -> set[str]:
    """The module-level names the code refers to (a local of the same name is not one)."""
    used: set[str] = set()
    tables = [symtable.symtable(source, name, "exec")]
    while tables:
        table = tables.pop()
        used |= {s.get_name() for s in table.get_symbols() if s.is_referenced()
                 and (table.get_type() == "module" or s.is_global())}
        tables += table.get_children()
    return used


def _defined(source: str) -> set[str]:
    return {n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("name", sorted({n for n, _ in ssb_guest.PROGRAMS.values()
                                         if n.endswith(".py")}))
def test_nothing_installed_uses_the_generator_side(name: str) -> None:
    source = ssb_guest.read(name)
    installed = ssb_guest.without_comment_lines(source, name)
    generator_side = _defined(source) - _defined(installed)
    assert (ssb_guest.GENERATOR_SIDE in source) == bool(generator_side), name
    assert not generator_side & _globals_used(installed, name)


def test_an_unended_generator_side_is_refused() -> None:
    source = f"x = 1\n{ssb_guest.GENERATOR_SIDE}\ny = 2\n"
    with pytest.raises(ValueError, match="never ended"):
        ssb_guest.without_comment_lines(source, "probe.py")
    ended = ssb_guest.without_comment_lines(source + f"{ssb_guest.END_GENERATOR_SIDE}\nz = 3\n",
                                            "probe.py")
    assert "y = 2" not in ended and "z = 3" in ended
