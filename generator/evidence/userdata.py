"""What an instance boots with: its declared measures (metadata ssb_measures) and its user data,
read in both scan modes as the guest will read it.

The user data is read as Terraform plans it (plain, base64 or base64gzip text, a MIME
multi-part message), or from the `file()` or `templatefile()` it is built from (HCL mode, and a
plan where the OpenStack provider records only its SHA-1). A template is read as written: its
`${...}` placeholders are bound to the expressions its call passes (`UserData.bindings`).

What is read, the checks judge: a cloud-config's settings (CKV_GDPR_17, 25, 26), whether the
commands it runs encrypt volumes with LUKS bound to Tang (CKV_GDPR_1), and whether it holds a
secret (CKV_GDPR_30). User data that exists but cannot be read is a `NotRead`, which says why.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import os
import re
from dataclasses import dataclass, field
from email import message_from_string
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from generator.evidence.hcl import deployment_dir
from generator.evidence.plan import Plan, PlanResource
from generator.evidence.scope import Scope
from generator.evidence.source import resource_block, trace_variable
from generator.evidence.values import Unresolved, map_value, unwrap
from generator.measures import parse as parse_measures

_FILE = re.compile(r'\bfile\(\s*"(?P<path>[^"]+)"\s*\)')
_TEMPLATE = re.compile(r'\btemplatefile\(\s*"(?P<path>[^"]+)"\s*,(?P<vars>.*)\)', re.S)
_SHA1 = re.compile(r"^[0-9a-f]{40}$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]{16,}$")


class NotRead(str):
    """Why user data that exists could not be read (a check cannot judge it: UNKNOWN)."""


@dataclass(frozen=True)
class UserData:
    """The user data an instance boots with, as text."""

    text: str
    origin: str  # "planned", "written in the .tf file", "file <path>", "template <path>"
    template: bool = False  # `${...}` in the text are Terraform placeholders, bound below
    bindings: dict[str, str] = field(default_factory=dict)  # placeholder -> expression text


def declares_measures(conf: dict[str, Any]) -> bool:
    """Whether the instance has an ssb_measures key at all (code this tool made always does):
    without one, what the code does not show may still be done by the image or another tool."""
    return isinstance(map_value(conf, "metadata", "ssb_measures"), str)


def measures_of(conf: dict[str, Any]) -> set[str] | Unresolved:
    """The instance's declared measures (comma- or space-separated), or Unresolved."""
    value = map_value(conf, "metadata", "ssb_measures")
    if isinstance(value, Unresolved):
        return value
    if not isinstance(value, str):
        return set()
    return parse_measures(value)


def decode_user_data(text: str) -> str | None:
    """User data as the guest reads it: plain text, or base64 (`base64encode`, `filebase64`) and
    base64 of gzip (`base64gzip`, what Terraform plans for the generated blueprints) decoded."""
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


@lru_cache(maxsize=128)
def _read(path: str, mtime_ns: int, size: int) -> str:
    return Path(path).read_text("utf-8", errors="replace")


def _resolve(name: str, directories: list[str]) -> Path | NotRead:
    """The file an expression names, tried in each directory `path.module` may stand for."""
    tried = []
    for directory in directories:
        candidate = name.replace("${path.module}", directory).replace("${path.root}", directories[-1])
        if "${" in candidate:
            return NotRead(f"user_data file path unresolved ({candidate})")
        path = Path(candidate if os.path.isabs(candidate) else os.path.join(directory, candidate))
        if path.is_file():
            return path
        tried.append(str(path))
    return NotRead(f"user_data file {tried[0] if tried else name} unreadable: not found")


def _bindings(text: str) -> dict[str, str]:
    """`{'a': 'b', "c" = d}` of a templatefile() call, as placeholder -> expression text."""
    return {m.group(1): m.group(2).strip().strip("'\"")
            for m in re.finditer(r"""['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?\s*[:=]\s*([^,}]+)""", text)}


def read_expression(expression: str, directories: list[str]) -> UserData | NotRead:
    """The user data an expression gives: a file() or templatefile() read from the first of
    `directories` (where `path.module` may point) that holds it, else the text itself."""
    template = _TEMPLATE.search(expression)
    found = template or _FILE.search(expression)
    if found is None:
        decoded = decode_user_data(expression.strip())
        if decoded is None:
            return NotRead("user_data is base64 that does not decode to text")
        return UserData(decoded, "written in the .tf file")
    path = _resolve(found.group("path"), directories)
    if isinstance(path, NotRead):
        return path
    stat = path.stat()
    text = _read(str(path), stat.st_mtime_ns, stat.st_size)
    if template:
        return UserData(text, f"template {path.name}", True, _bindings(template.group("vars")))
    return UserData(text, f"file {path.name}")


def hcl_user_data(conf: dict[str, Any], directories: list[str]) -> UserData | NotRead | None:
    """HCL mode: the user data of a block as Checkov rendered it (None when it has none)."""
    value = unwrap(conf.get("user_data"))
    if value is None:
        return None
    if isinstance(value, Unresolved):
        return NotRead(f"user_data is {value}")
    if not isinstance(value, str):
        return NotRead(f"user_data is {value!r}")
    if _FILE.search(value) or _TEMPLATE.search(value):
        return read_expression(value, directories)
    if "\n" not in value and ("${" in value or re.search(r"\b(var|local|module|data)\.[A-Za-z]", value)):
        return NotRead(f"user_data is {Unresolved(value)}")
    return read_expression(value, directories)


def plan_user_data(plan: Plan, resource: PlanResource, root: Path | None) -> UserData | NotRead | None:
    """Plan mode. The schema-only provider plans user_data as Terraform computes it (decoded
    here); the real OpenStack provider plans only its SHA-1: the expression is then followed from
    the resource up through the module calls in the .tf source to the file() or templatefile()
    that names it."""
    value = resource.values.get("user_data")
    if resource.is_unknown("user_data"):
        refs = ", ".join(plan.references(resource, "user_data")) or "a value computed by the provider"
        return NotRead(f"user_data is {Unresolved(refs, 'after-apply')}")
    if value is None:
        return None
    if not (isinstance(value, str) and _SHA1.match(value)):
        decoded = decode_user_data(str(value).strip())
        return UserData(decoded, "planned") if decoded is not None else NotRead(
            "user_data is base64 that does not decode to text")
    modules = tuple(n for n, _ in resource.modules)
    block = resource_block(root, plan, modules, resource.type, resource.name, resource.mode) \
        if root is not None else None
    if block is None or root is None:
        return NotRead("user_data is planned as its SHA-1 (the OpenStack provider stores only the "
                       "hash): scan with the .tf source at hand so the file it is built from can be read")
    text, directory, _ = trace_variable(root, plan, modules, block.raw("user_data"))
    if not isinstance(text, str) or directory is None:
        return NotRead("user_data is planned as its SHA-1 and its expression could not be followed "
                       "in the source")
    return read_expression(text, [str(directory), str(root)])


def user_data(scope: Scope, node: dict[str, Any] | None = None,
              resource: PlanResource | None = None) -> UserData | NotRead | None:
    """The user data of the scope's instance, or of another instance of the same scan (a graph
    node in HCL mode, a plan resource in plan mode)."""
    if scope.plan is not None:
        res = resource or scope.resource
        if res is None:
            return NotRead("the instance is not in the plan")
        return plan_user_data(scope.plan, res, scope.source_root)
    from generator.evidence.hcl import block_config

    node = node or scope.node
    if node is None:
        return NotRead("scan graph unavailable: cannot find the user data's directory")
    conf = block_config(node) if node is not scope.node else scope.conf
    if _null_input(scope, node, unwrap(conf.get("user_data"))):
        return None
    return hcl_user_data(conf, [os.path.dirname(str(node.get("file_path_") or "")), deployment_dir(node)])


_VARIABLE = re.compile(r"^(?:\$\{)?var\.([A-Za-z0-9_-]+)\}?$")


def _null_input(scope: Scope, node: dict[str, Any], value: Any) -> bool:
    """HCL mode: `var.x` that Checkov left because the module's variable defaults to null and
    the module call does not set it (so Terraform gives null: no user data)."""
    from generator.evidence.hcl import block_config, module_call_conf

    found = _VARIABLE.match(value) if isinstance(value, str) else None
    source = node.get("source_module_object_")
    if found is None or source is None:
        return False
    name, directory = found.group(1), os.path.dirname(str(node.get("file_path_") or ""))
    variables = [n for n in scope.nodes if n.get("block_type_") == "variable"
                 and str(n.get("block_name_")) == name
                 and os.path.dirname(str(n.get("file_path_") or "")) == directory]
    call = module_call_conf(scope.nodes, source)
    if not variables or call is None or name in call:
        return False
    # One variable block per instance of a counted module call: all the same declaration.
    declared = [block_config(v) for v in variables]
    return all("default" in d and unwrap(d["default"]) is None for d in declared)


# ---- cloud-config ----------------------------------------------------------------------------


@lru_cache(maxsize=128)
def _load_yaml(text: str) -> tuple[Any, str | None]:
    """(document, None) or (None, the YAML error) of a cloud-config's text. With libyaml, and
    once per text: a scan reads each instance's user data in five checks, and pure-Python
    parsing of the blueprints' cloud-configs was most of an HCL scan's time. Callers only read
    the document."""
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)), None
    except yaml.YAMLError as error:
        return None, str(error)


def _parts(text: str) -> list[tuple[str, str]]:
    """(content type, text) of every part of a MIME multi-part message; the text alone else."""
    if not text.lstrip().startswith("Content-Type: multipart"):
        return [("", text)]
    out = []
    for part in message_from_string(text).walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            out.append((part.get_content_type(), payload.decode("utf-8", errors="replace")))
    return out


def cloud_config_of(data: UserData) -> dict[str, Any] | str:
    """The cloud-config in the user data, or why there is none."""
    for kind, text in _parts(data.text):
        if kind in ("", "text/cloud-config") and text.lstrip().startswith("#cloud-config"):
            doc, error = _load_yaml(text)
            if error is not None:
                return NotRead(f"user_data ({data.origin}) is not valid YAML: {error}")
            return doc if isinstance(doc, dict) else "user_data is not a cloud-config mapping"
    return f"user_data is not a cloud-config ({data.text.strip()[:60]!r})"


def cloud_config(found: UserData | NotRead | None) -> dict[str, Any] | str:
    """The cloud-config an instance gets, or why it cannot be read (NotRead) or has none."""
    if found is None:
        return "no user_data: nothing configures the guest"
    if isinstance(found, NotRead):
        return found
    return cloud_config_of(found)


def instance_cloud_config(scope: Scope) -> dict[str, Any] | str:
    """The cloud-config of the scope's instance, in either mode."""
    return cloud_config(user_data(scope))


# ---- what the guest runs ---------------------------------------------------------------------


def _commands(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [" ".join(str(v) for v in item) if isinstance(item, list) else str(item) for item in value]
    return []


def executed_text(data: UserData) -> str:
    """The text of what the guest runs at boot: a script's lines; a cloud-config's bootcmd and
    runcmd, the units it writes, and the files those run."""
    texts: list[str] = []
    for kind, text in _parts(data.text):
        if not text.lstrip().startswith("#cloud-config"):
            if kind in ("", "text/x-shellscript") or text.startswith("#!"):
                texts.append(text)
            continue
        doc, _error = _load_yaml(text)
        if not isinstance(doc, dict):
            continue
        commands = [*_commands(doc.get("bootcmd")), *_commands(doc.get("runcmd"))]
        files = {str(f.get("path", "")): str(f.get("content") or "")
                 for f in doc.get("write_files") or [] if isinstance(f, dict)}
        units = [t for p, t in files.items() if p.startswith("/etc/systemd/system/")]
        started = "\n".join([*commands, *units])
        texts += commands + units
        texts += [t for p, t in files.items() if p and p in started and t not in texts]
    return "\n".join(texts)


# What gives someone a login in what the guest runs: an account made, a key or password set.
_LOGIN_COMMAND = re.compile(r"\b(?:useradd|adduser|chpasswd|passwd|usermod)\b|authorized_keys", re.I)
_NO_SHELL = re.compile(r"/(?:usr/)?s?bin/(?:nologin|false)\b")  # a service account: no login
_LOGIN_KEYS = ("ssh_authorized_keys", "password", "ssh_import_id")
_USER_LOGIN_KEYS = ("ssh_authorized_keys", "ssh_import_id", "passwd", "hashed_passwd",
                    "plain_text_passwd")


def gives_login(data: UserData) -> bool | None:
    """Whether the user data gives anyone a login: a key or password for an account (the image's
    default user or one it makes), or commands that make accounts or write keys. An account
    with neither (a locked service user) is no login. None: a cloud-config that does not parse."""
    for _kind, text in _parts(data.text):
        if not text.lstrip().startswith("#cloud-config"):
            continue
        doc, _error = _load_yaml(text)
        if not isinstance(doc, dict):
            return None
        chpasswd = doc.get("chpasswd")
        if any(doc.get(key) for key in _LOGIN_KEYS) or (
                isinstance(chpasswd, dict) and (chpasswd.get("list") or chpasswd.get("users"))):
            return True
        if any(isinstance(user, dict) and any(user.get(key) for key in _USER_LOGIN_KEYS)
               for user in doc.get("users") or []):
            return True
    return any(_LOGIN_COMMAND.search(line) and not _NO_SHELL.search(line)
               for line in executed_text(data).splitlines())


_LUKS = re.compile(r"\bluksFormat\b", re.I)
_CLEVIS_BIND = re.compile(r"\bclevis\W{0,60}luks\W{0,20}bind\b", re.I | re.S)
_TANG = re.compile(r"\btang\b", re.I)


def guest_encryption_problem(data: UserData) -> str | None:
    """None when what the guest runs formats volumes with LUKS and binds the key to Tang (Clevis),
    else what is missing."""
    text = executed_text(data)
    if not _LUKS.search(text):
        return f"its user data ({data.origin}) runs no LUKS formatting (cryptsetup luksFormat)"
    if not (_CLEVIS_BIND.search(text) and _TANG.search(text)):
        return (f"its user data ({data.origin}) formats LUKS but binds no key to Tang (clevis luks "
                "bind ... tang): who holds the key is not shown")
    return None


# ---- secrets ---------------------------------------------------------------------------------

_PRIVATE_KEY = re.compile(r"-----BEGIN ((?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----")
_TOKENS = (
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"), "a GitHub token"),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"), "a GitLab token"),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"), "a Slack token"),
)
_SECRET_NAME = re.compile(r"(passw(or)?d|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)",
                          re.I)
# Names that hold no secret although they say so: switches, lengths, where a secret is kept.
_NOT_SECRET_NAME = re.compile(
    r"(authentication|pwauth|lock_passwd|nopasswd|expire|_(file|path|dir|ttl|length|url|uri|name|endpoint|type|"
    r"id|hex|urlsafe|bytes|policy|enabled|mode|size)$|^(hashed|ssh_authorized))", re.I)
_ASSIGNMENT = re.compile(
    r"""(?:^|[\s;'"{,(\[])(?:export\s+)?-?-?(?P<key>[A-Za-z_][A-Za-z0-9_.-]{0,60})["']?\s*[:=]\s*"""
    r"""(?P<value>"[^"\n]*"|'[^'\n]*'|\$\{[^}\n]*\}[^\s"'#;,]*|[^\s"'#;,}]+)""", re.M)
# Programs a cloud-config writes (their code names variables "password", "token"): only keys and
# tokens are looked for in them, not assignments.
_PROGRAM = re.compile(r"^#!\S*(python|perl|ruby|node)", re.I)
_PLACEHOLDER = re.compile(r"^\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}$")


_REFERENCE_TEXT = re.compile(r'^(var|local|module|data|[a-z]+_[a-z0-9_]+)\.[A-Za-z0-9_.\[\]"*-]+$')


def _bound(data: UserData, placeholder: str) -> str:
    """What a template placeholder is bound to, named only when it is a reference (a value
    Checkov substituted may be the secret itself)."""
    bound = data.bindings.get(placeholder, "")
    return bound if _REFERENCE_TEXT.match(bound) else f"its variable {placeholder}"


def _not_a_value(value: str, template: bool) -> bool:
    """True for what a secret-named key takes that is no secret: switches, empty values, where
    it is read from at run time (a shell variable, a command, a file), a placeholder text."""
    v = value.strip().strip("\"'")
    if not v or v.lower() in ("true", "false", "yes", "no", "on", "off", "null", "none", "random", "~"):
        return True
    if v.startswith(("$(", "`", "/", "@", "<", "%", "{{")) or v.endswith(":"):
        return True
    if v.startswith("$") and not (template and _PLACEHOLDER.match(v)):
        return True  # a shell variable (in a template written $${X})
    return bool(re.fullmatch(r"[0-9]{1,3}", v))


def _scan_text(text: str, where: str, data: UserData) -> list[str]:
    found = []
    if _PRIVATE_KEY.search(text):
        found.append(f"a private key (PEM) in {where}")
    for pattern, what in _TOKENS:
        if pattern.search(text):
            found.append(f"{what} in {where}")
    for m in () if _PROGRAM.match(text) else _ASSIGNMENT.finditer(text):
        key, value = m.group("key"), m.group("value")
        if not _SECRET_NAME.search(key) or _NOT_SECRET_NAME.search(key) or _not_a_value(value, data.template):
            continue
        placeholder = _PLACEHOLDER.match(value.strip().strip("\"'")) if data.template else None
        if placeholder:
            found.append(f"{key} in {where}, set by the template from {_bound(data, placeholder.group(1))}")
        else:
            found.append(f"{key} in {where}")
    used = _interpolated(text) if data.template else set()
    for placeholder, bound in data.bindings.items() if data.template else ():
        if placeholder not in used:
            continue
        if re.search(r"private_key_(pem|openssh)", bound):
            found.append(f"a private key in {where}, set by the template from {_bound(data, placeholder)}")
        elif (_SECRET_NAME.search(placeholder) and not _NOT_SECRET_NAME.search(placeholder)
              and not any(f"from {_bound(data, placeholder)}" in f for f in found)):
            # `encrypt = "${GOSSIP_TOKEN}"`: the line's own key says nothing, the value's name does.
            found.append(f"a value named {placeholder} in {where}, set by the template from "
                         f"{_bound(data, placeholder)}")
    return found


def _interpolated(text: str) -> set[str]:
    """The names a template's `${...}` interpolations use, in any expression (`${indent(6,
    private_key)}` uses private_key); `$${...}` is an escape for a literal `${`."""
    names: set[str] = set()
    for m in re.finditer(r"(?<!\$)\$\{([^}]*)\}", text):
        names |= set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", m.group(1)))
    return names


def secrets_in(data: UserData) -> list[str]:
    """What looks like a secret in the user data, named by where it is (never its value)."""
    found: list[str] = []
    for _kind, text in _parts(data.text):
        where = f"the user data ({data.origin})"
        if text.lstrip().startswith("#cloud-config"):
            doc, _error = _load_yaml(text)
            if isinstance(doc, dict):
                found += _cloud_config_secrets(doc, data)
                continue
        found += _scan_text(text, where, data)
    return list(dict.fromkeys(found))


def _cloud_config_secrets(doc: dict[str, Any], data: UserData) -> list[str]:
    found = []
    origin = f"({data.origin})"
    for key in ("password", "plain_text_passwd"):
        if isinstance(doc.get(key), str) and not _not_a_value(doc[key], data.template):
            found.append(f"cloud-config {key} {origin}")
    chpasswd = doc.get("chpasswd") if isinstance(doc.get("chpasswd"), dict) else {}
    listed = chpasswd.get("list") or chpasswd.get("users")
    if listed and any(not _not_a_value(str(e.get("password", "")) if isinstance(e, dict)
                                       else str(e).partition(":")[2], data.template)
                      for e in (listed.splitlines() if isinstance(listed, str) else listed)):
        found.append(f"cloud-config chpasswd passwords {origin}")
    for user in doc.get("users") or []:
        if isinstance(user, dict) and isinstance(user.get("plain_text_passwd"), str):
            found.append(f"cloud-config users[{user.get('name')}].plain_text_passwd {origin}")
    keys = doc.get("ssh_keys") if isinstance(doc.get("ssh_keys"), dict) else {}
    if any(str(k).endswith("_private") for k in keys):
        found.append(f"cloud-config ssh_keys: a host private key {origin}")
    for f in doc.get("write_files") or []:
        if isinstance(f, dict) and isinstance(f.get("content"), str):
            found += _scan_text(f["content"], f"write_files {f.get('path')} {origin}", data)
    for name in ("bootcmd", "runcmd"):
        for command in _commands(doc.get(name)):
            found += _scan_text(command, f"{name} {origin}", data)
    return found
