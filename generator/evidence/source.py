"""The .tf source behind a plan: where a block is written, its skip comments, expression text.

A plan records values and references, not text. Some evidence is only in the text: the file a
`user_data = file(...)` reads when the provider stores only its hash, the statements of a
`jsonencode()` policy that is unknown until apply (it contains the bucket's ARN), the group in a
dynamic `scheduler_hints` block (dynamic blocks are absent from the plan's configuration), the
backend, and `# checkov:skip=ID:reason` comments. The source root is the directory the plan was
made from: the scan registers it for its plan file (`register_source`); for a plan scanned by
Checkov directly it is the plan file's directory when that holds .tf files.

Blocks are found by a small lexer (strings, interpolations, heredocs, comments) and only the
block that is needed is parsed (Checkov's HCL parser costs ~0.3 s per file, ~10 ms per block).
Module directories come from the plan's module calls (local sources) or from the
`.terraform/modules/modules.json` that `terraform init` wrote into the root.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generator.evidence.plan import Plan

# The same pattern Checkov 3.3.30 uses for suppression comments.
SKIP = re.compile(r"(checkov:skip=|bridgecrew:skip=|cortex:skip=) *"
                  r"([A-Za-z_\d-]+(?:,[A-Za-z_\d-]+)*)?(:[^\n]*)?")
# A block's labels are quoted strings or bare identifiers (`module ingress {` is valid HCL).
_HEADER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_-]*)((?:\s+(?:"[^"\n]*"|[A-Za-z_][A-Za-z0-9_-]*))*)\s*\{')
_LABEL = re.compile(r'"([^"\n]*)"|([A-Za-z_][A-Za-z0-9_-]*)')
_HEREDOC = re.compile(r"<<-?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\n")
_VARIABLE_ONLY = re.compile(r"^\$\{var\.([A-Za-z0-9_-]+)\}$")

_SOURCES: dict[str, str] = {}


def register_source(plan_path: str | Path, source_root: str | Path) -> None:
    """Tell the checks which directory a plan file was made from."""
    _SOURCES[str(Path(plan_path).resolve())] = str(Path(source_root).resolve())


def source_root(plan_path: str) -> Path | None:
    """The registered source directory of a plan, else the plan's own directory if it holds
    .tf files, else None."""
    registered = _SOURCES.get(str(Path(plan_path).resolve()))
    if registered:
        return Path(registered)
    parent = Path(plan_path).resolve().parent
    return parent if any(parent.glob("*.tf")) else None


@dataclass(frozen=True)
class Block:
    """One top-level block of a .tf file."""

    kind: str
    labels: tuple[str, ...]
    file: Path
    start: int  # first line, 1-based
    end: int  # last line
    text: str

    def skips(self) -> dict[str, str]:
        """Check id -> written reason ("" when none) of the block's suppression comments."""
        found: dict[str, str] = {}
        for m in SKIP.finditer(self.text):
            reason = (m.group(3) or "")[1:].strip()
            for check_id in (m.group(2) or "").split(","):
                if check_id:
                    found[check_id] = reason
        return found

    def parsed(self) -> dict[str, Any]:
        """The block's body as Checkov's HCL parser gives it ({} when it does not parse)."""
        return _parse(self.text, self.kind, self.labels)

    def raw(self, *path: str | int) -> Any:
        """An attribute's unwrapped value or expression text (`${...}`), None if absent."""
        node: Any = self.parsed()
        for step in path:
            while isinstance(node, list) and len(node) == 1 and not isinstance(step, int):
                node = node[0]
            if isinstance(step, int):
                node = node[step] if isinstance(node, list) and len(node) > step else None
            else:
                node = node.get(step) if isinstance(node, dict) else None
            if node is None:
                return None
        while isinstance(node, list) and len(node) == 1:
            node = node[0]
        return node

    def dynamic(self, name: str) -> dict[str, Any] | None:
        """A `dynamic "<name>"` block: {"for_each": text, "content": {...}}."""
        for entry in self.parsed().get("dynamic") or []:
            if isinstance(entry, dict) and name in entry:
                body = entry[name]
                content = body.get("content") or [{}]
                return {"for_each": _unwrap(body.get("for_each")),
                        "content": content[0] if isinstance(content, list) and content else {}}
        return None


def _unwrap(value: Any) -> Any:
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


@lru_cache(maxsize=512)
def _parse(text: str, kind: str, labels: tuple[str, ...]) -> dict[str, Any]:
    import hcl2

    try:
        doc = hcl2.loads(text)
    except Exception:  # the block did not parse alone: no expressions from it
        return {}
    node: Any = doc.get(kind)
    node = node[0] if isinstance(node, list) and node else node
    for label in labels:
        node = node.get(label) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _skip_string(text: str, i: int) -> int:
    """Index after the string starting at text[i] == '"' (interpolations may nest strings)."""
    i += 1
    depth = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if depth == 0 and c == '"':
            return i + 1
        if c in "$%" and text.startswith("{", i + 1):
            depth += 1
            i += 2
            continue
        if depth and c == '"':
            i = _skip_string(text, i)
            continue
        if depth and c == "{":
            depth += 1
        elif depth and c == "}":
            depth -= 1
        elif depth == 0 and c == "\n":
            return i
        i += 1
    return i


def scan_blocks(text: str) -> list[tuple[str, tuple[str, ...], int, int]]:
    """(kind, labels, start offset, end offset) of every top-level block in `text`."""
    blocks = []
    i, depth, start, header = 0, 0, 0, None
    while i < len(text):
        c = text[i]
        if c == "#" or text.startswith("//", i):
            i = text.find("\n", i)
            i = len(text) if i < 0 else i
            continue
        if text.startswith("/*", i):
            i = text.find("*/", i + 2)
            i = len(text) if i < 0 else i + 2
            continue
        if c == '"':
            i = _skip_string(text, i)
            continue
        if text.startswith("<<", i):
            m = _HEREDOC.match(text, i)
            if m:
                end = re.compile(rf"^\s*{re.escape(m.group(1))}\s*$", re.M).search(text, m.end())
                i = end.end() if end else len(text)
                continue
        if depth == 0 and (i == 0 or text[i - 1] == "\n"):
            m = _HEADER.match(text, i)
            if m:
                header = (m.group(1), tuple(a or b for a, b in _LABEL.findall(m.group(2))))
                start = i
                depth = 1
                i = m.end()
                continue
        if c == "{":
            depth += 1
        elif c == "}" and depth:
            depth -= 1
            if depth == 0 and header is not None:
                blocks.append((header[0], header[1], start, i + 1))
                header = None
        i += 1
    return blocks


@lru_cache(maxsize=256)
def _file_blocks(path: str, mtime_ns: int, size: int) -> tuple[Block, ...]:
    text = Path(path).read_text("utf-8", errors="replace")
    out = []
    for kind, labels, start, end in scan_blocks(text):
        body = text[start:end]
        lead = len(body) - len(body.lstrip())
        first = text.count("\n", 0, start + lead) + 1
        body = body.strip()
        out.append(Block(kind, labels, Path(path), first, first + body.count("\n"), body))
    return tuple(out)


def blocks_in(directory: Path) -> list[Block]:
    """Every top-level block of the .tf files directly in `directory` (cached per file)."""
    out: list[Block] = []
    try:
        files = sorted(p for p in directory.iterdir() if p.suffix == ".tf" and p.is_file())
    except OSError:
        return out
    for path in files:
        stat = path.stat()
        out.extend(_file_blocks(str(path), stat.st_mtime_ns, stat.st_size))
    return out


def find_block(directory: Path, kind: str, *labels: str) -> Block | None:
    """The block `kind "labels..."` written in `directory`; an override file's wins."""
    found = [b for b in blocks_in(directory) if b.kind == kind and b.labels == labels]
    if not found:
        return None
    overrides = [b for b in found if b.file.stem.endswith("override")]
    return (overrides or found)[0]


def _module_entries(root: Path) -> list[dict[str, Any]]:
    """The module entries `terraform init` recorded for `root` (its modules.json), root's own
    (Key "") left out."""
    path = root / ".terraform" / "modules" / "modules.json"
    try:
        entries = json.loads(path.read_text("utf-8")).get("Modules") or []
    except (OSError, ValueError):
        return []
    return [e for e in entries if isinstance(e, dict) and e.get("Key")]


def _modules_json(root: Path) -> dict[str, str]:
    return {str(e["Key"]): str(e.get("Dir")) for e in _module_entries(root)}


LOCAL_SOURCE = ("./", "../")


def unloaded_modules(root: Path) -> list[tuple[Block, str]]:
    """Module calls under `root` whose code is not on disk, with their source: a local path that
    does not exist, or a remote source `terraform init` has not fetched into a
    .terraform/modules of the tree (Checkov reads modules.json there and downloads nothing).
    Nothing inside them is judged, which a scan must say."""
    loaded: set[str] = set()
    keys: set[str] = set()
    directories: list[Path] = []
    # One walk, never into .terraform (providers and fetched modules live there).
    for path, subdirs, files in os.walk(root):
        here = Path(path)
        if ".terraform" in subdirs:
            subdirs.remove(".terraform")
            for entry in _module_entries(here):
                if (here / str(entry.get("Dir", ""))).is_dir():
                    keys.add(str(entry["Key"]).rsplit(".", 1)[-1])
                    loaded.add(str(entry.get("Source", "")))
        if any(name.endswith(".tf") for name in files):
            directories.append(here)
    found = []
    for directory in sorted(directories):
        for block in blocks_in(directory):
            source = block.raw("source") if block.kind == "module" and block.labels else None
            if not isinstance(source, str):
                continue
            if source.startswith(LOCAL_SOURCE):
                if not (directory / source).is_dir():
                    found.append((block, source))
            elif not ({source, f"registry.terraform.io/{source}"} & loaded) \
                    and block.labels[0] not in keys:
                found.append((block, source))
    return found


def module_dir(root: Path, plan: Plan, names: tuple[str, ...]) -> Path | None:
    """Directory of the module reached through the calls `names` (root for ())."""
    current = root
    for i in range(len(names)):
        source = str(plan.module_call(names[: i + 1]).get("source") or "")
        if source.startswith(("./", "../")):
            current = Path(os.path.normpath(current / source))
            continue
        installed = _modules_json(root).get(".".join(names[: i + 1]))
        if not installed:
            return None
        current = Path(os.path.normpath(root / installed))
    return current if current.is_dir() else None


def resource_block(root: Path, plan: Plan, modules: tuple[str, ...], rtype: str, name: str,
                   mode: str = "managed") -> Block | None:
    directory = module_dir(root, plan, modules)
    if directory is None:
        return None
    return find_block(directory, "data" if mode == "data" else "resource", rtype, name)


def trace_variable(root: Path, plan: Plan, modules: tuple[str, ...], text: Any,
                   depth: int = 8) -> tuple[Any, Path | None, tuple[str, ...]]:
    """Follow an expression that is exactly `var.x` up through the module call arguments:
    the first text that is something else, the directory it is written in, and its module."""
    directory = module_dir(root, plan, modules)
    while depth > 0 and modules and isinstance(text, str):
        m = _VARIABLE_ONLY.match(text.strip())
        if not m:
            break
        parent = module_dir(root, plan, modules[:-1])
        call = find_block(parent, "module", modules[-1]) if parent else None
        if call is None:
            return None, None, modules
        text = call.raw(m.group(1))
        directory, modules = parent, modules[:-1]
        depth -= 1
    return text, directory, modules
