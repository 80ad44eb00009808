"""Reading what an instance declares (metadata ssb_measures) and the cloud-config its user data
gives it, in both scan modes: the shared evidence of the checks on guest configuration.

The user data is read as Terraform plans it (plain, base64 or base64gzip text, a MIME
multi-part's cloud-config part), or from the file() it is built from (HCL mode, and a plan
where the OpenStack provider records only its SHA-1).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from generator.evidence.scope import Scope
from generator.evidence.source import trace_variable
from generator.evidence.values import Unresolved, map_value, unwrap

_FILE = re.compile(r'file\(\s*"(?P<path>[^"]+)"\s*\)')


def measures_of(conf: dict[str, Any]) -> set[str] | Unresolved:
    """The instance's declared measures (comma- or space-separated), or Unresolved."""
    value = map_value(conf, "metadata", "ssb_measures")
    if isinstance(value, Unresolved):
        return value
    if not isinstance(value, str):
        return set()
    return {m for m in re.split(r"[,\s]+", value) if m}


@lru_cache(maxsize=64)
def _load(path: str, mtime_ns: int, size: int) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


_SHA1 = re.compile(r"^[0-9a-f]{40}$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]{16,}$")


def decode_user_data(text: str) -> str | None:
    """User data as the guest reads it: plain text, or base64 (`base64encode`, `filebase64`) and
    base64 of gzip (`base64gzip`, what Terraform plans for the generated blueprints) decoded."""
    import base64
    import binascii
    import gzip

    if not _BASE64.match(text) or text.lstrip().startswith("#"):
        return text
    try:
        raw = base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        return text
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _cloud_config_parts(text: str) -> str | None:
    """The text/cloud-config part of a MIME multi-part user data (the first one)."""
    from email import message_from_string

    message = message_from_string(text)
    for part in message.walk():
        if part.get_content_type() == "text/cloud-config":
            payload = part.get_payload(decode=True)
            return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else None
    return None


def _read_file(expression: str, module_dir: str, root_dir: str) -> dict[str, Any] | str:
    found = _FILE.search(expression)
    if not found:
        return f"user_data is not a readable cloud-config ({expression[:60]})"
    name = found.group("path").replace("${path.module}", module_dir).replace("${path.root}", root_dir)
    if "${" in name:
        return f"user_data file path unresolved ({name})"
    path = Path(name if os.path.isabs(name) else os.path.join(module_dir, name))
    try:
        stat = path.stat()
        doc = _load(str(path), stat.st_mtime_ns, stat.st_size)
    except (OSError, yaml.YAMLError) as error:
        return f"user_data file {path} unreadable: {error}"
    return doc if isinstance(doc, dict) else "user_data is not a cloud-config mapping"


def cloud_config(user_data: Any, module_dir: str, root_dir: str | None = None) -> dict[str, Any] | str:
    """The cloud-config the instance gets, or why it cannot be read. `module_dir` is where a
    `file()` in the expression is resolved (`path.module`)."""
    text = unwrap(user_data)
    if isinstance(text, Unresolved):
        return f"user_data is {text}"
    if not isinstance(text, str):
        return "no user_data: nothing configures logging in the guest"
    if _FILE.search(text):
        return _read_file(text, module_dir, root_dir or module_dir)
    decoded = decode_user_data(text.strip())
    if decoded is None:
        return "user_data is base64 that does not decode to text"
    if decoded.lstrip().startswith("Content-Type: multipart"):
        decoded = _cloud_config_parts(decoded) or ""
    if not decoded.lstrip().startswith("#cloud-config"):
        return f"user_data is not a cloud-config ({decoded.strip()[:60]!r})"
    doc = yaml.safe_load(decoded)
    if not isinstance(doc, dict):
        return "user_data is not a cloud-config mapping"
    return doc


def plan_cloud_config(scope: Scope) -> dict[str, Any] | str:
    """Plan mode. The schema-only provider plans user_data as Terraform computes it (decoded
    here); the real OpenStack provider plans only its SHA-1. Then the file it is built from is
    read: the expression is followed from the resource up through the module calls in the .tf
    source to the `file()` that names it."""
    value = unwrap(scope.conf.get("user_data"))
    if not (isinstance(value, str) and _SHA1.match(value)):
        return cloud_config(value, str(scope.source_root or ""))
    block, root = scope.block(), scope.source_root
    if block is None or root is None:
        return ("user_data is planned as its SHA-1 (the OpenStack provider stores only the hash): "
                "scan with the .tf source at hand so the file it is built from can be read")
    modules = tuple(n for n, _ in scope.resource.modules)
    text, directory, _ = trace_variable(root, scope.plan, modules, block.raw("user_data"))
    if not isinstance(text, str) or directory is None:
        return "user_data is planned as its SHA-1 and its expression could not be followed in the source"
    return _read_file(text, str(directory), str(root))
