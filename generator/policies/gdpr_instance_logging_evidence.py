"""CKV_GDPR_17: instances log locally, ship logs over TLS and detect intrusions, for real.

Two things are checked on every instance holding personal data:

1. What it must declare (metadata ssb_measures): `local-logs` always; `log-shipping-tls` (or
   `log-collector-tls` on the collector) when its deployment has a log collector; `audit` and
   `file-integrity` when the deployment runs intrusion detection anywhere. The deployment is
   every instance rendered from the same root module, read from the scan graph.
2. That each declared logging measure is in the user data Terraform sends: the cloud-config
   file named in `user_data = base64gzip(file("${path.module}/cloud-init/<group>.yaml"))` is
   read and must configure it: a persistent journald drop-in; rsyslog-gnutls and every `omfwd`
   action with StreamDriver gtls, mode 1 and x509 peer authentication (and no legacy `@`/`@@`
   forwarding); on the collector only gtls `imtcp` inputs with x509 client authentication;
   auditd with a rules file; AIDE with a configuration and a timer.

What this proves: the instance is created with a first-boot configuration that sets these up,
and plaintext forwarding is not configured. What it does not: that cloud-init succeeded in the
guest, that certificates were issued, that the collector is reachable or keeps logs for the
retention, or that anyone reads AIDE's reports. `path.module` is taken as the directory of the
root module that calls the instance's module (where the generator writes the expression).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import (
    Unresolved,
    block_config,
    entity_file,
    graph_blocks,
    guideline,
    has_no_instances,
    holds_personal_data,
    is_expanded,
    map_value,
    scan_root,
    severity,
    unwrap,
)

ID = "CKV_GDPR_17"
RESOURCE = "openstack_compute_instance_v2"
LOGGING = ("local-logs", "log-shipping-tls", "log-collector-tls", "audit", "file-integrity")
_FILE = re.compile(r'file\(\s*"(?P<path>[^"]+)"\s*\)')
_BLOCK = re.compile(r"\b(?P<kind>action|input)\s*\((?P<body>[^()]*)\)", re.S)
_PARAM = re.compile(r'(?P<key>[A-Za-z0-9_.]+)\s*=\s*"(?P<value>[^"]*)"')


def measures_of(conf: dict[str, Any]) -> set[str] | Unresolved:
    """The instance's declared measures (comma- or space-separated), or Unresolved."""
    value = map_value(conf, "metadata", "ssb_measures")
    if isinstance(value, Unresolved):
        return value
    if not isinstance(value, str):
        return set()
    return {m for m in re.split(r"[,\s]+", value) if m}


def deployment_dir(node: dict[str, Any]) -> str:
    """Directory of the root module an instance belongs to (outermost module caller)."""
    source = node.get("source_module_object_")
    path = str(node.get("file_path_") or "")
    while source is not None:
        path = str(getattr(source, "path", path))
        source = getattr(source, "nested_tf_module", None)
    return os.path.dirname(path)


@lru_cache(maxsize=64)
def _load(path: str, mtime_ns: int, size: int) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


def cloud_config(user_data: Any, module_dir: str) -> dict[str, Any] | str:
    """The cloud-config the instance gets, or why it cannot be read."""
    text = unwrap(user_data)
    if not isinstance(text, str):
        return "no user_data: nothing configures logging in the guest"
    if text.lstrip().startswith("#cloud-config"):
        doc = yaml.safe_load(text)
    else:
        found = _FILE.search(text)
        if not found:
            return f"user_data is not a readable cloud-config ({text[:60]})"
        name = found.group("path").replace("${path.module}", module_dir).replace("${path.root}", module_dir)
        if "${" in name:
            return f"user_data file path unresolved ({name})"
        path = Path(name if os.path.isabs(name) else os.path.join(module_dir, name))
        try:
            stat = path.stat()
            doc = _load(str(path), stat.st_mtime_ns, stat.st_size)
        except (OSError, yaml.YAMLError) as error:
            return f"user_data file {path} unreadable: {error}"
    if not isinstance(doc, dict):
        return "user_data is not a cloud-config mapping"
    return doc


def _files(doc: dict[str, Any], prefix: str, suffix: str = "") -> list[str]:
    return [str(f.get("content") or "") for f in doc.get("write_files") or []
            if isinstance(f, dict) and str(f.get("path", "")).startswith(prefix)
            and str(f.get("path", "")).endswith(suffix)]


def _rsyslog_configs(doc: dict[str, Any]) -> list[str]:
    """The system rsyslog's drop-ins, and the main file of any rsyslogd a written unit runs
    (`rsyslogd ... -f FILE`: the collector's listener has an rsyslogd of its own)."""
    written = {str(f.get("path", "")): str(f.get("content") or "")
               for f in doc.get("write_files") or [] if isinstance(f, dict)}
    mains = {m.group(1) for path, text in written.items() if path.endswith(".service")
             for m in re.finditer(r"^ExecStart=\S*rsyslogd\b.*\s-f\s*(\S+)", text, re.M)}
    return [*_files(doc, "/etc/rsyslog.d/", ".conf"),
            *(written[path] for path in sorted(mains) if path in written)]


def _packages(doc: dict[str, Any]) -> set[str]:
    return {p if isinstance(p, str) else str(p[0]) for p in doc.get("packages") or [] if p}


def _blocks(texts: list[str], kind: str) -> list[dict[str, str]]:
    out = []
    for text in texts:
        uncommented = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        for m in _BLOCK.finditer(uncommented):
            if m.group("kind") == kind:
                params = _PARAM.finditer(m.group("body"))
                out.append({p.group("key").lower(): p.group("value") for p in params})
    return out


def evidence_problems(doc: dict[str, Any], measures: set[str]) -> list[str]:
    """What the cloud-config lacks for each declared logging measure."""
    problems: list[str] = []
    packages = _packages(doc)
    rsyslog = _rsyslog_configs(doc)
    if "local-logs" in measures and not any(
            re.search(r"^\s*Storage\s*=\s*persistent\s*$", t, re.M)
            for t in _files(doc, "/etc/systemd/journald.conf.d/", ".conf")):
        problems.append("local-logs: no journald drop-in with Storage=persistent")
    if "log-shipping-tls" in measures:
        forwards = [b for b in _blocks(rsyslog, "action") if b.get("type") == "omfwd"]
        if "rsyslog-gnutls" not in packages:
            problems.append("log-shipping-tls: package rsyslog-gnutls not installed")
        if not forwards:
            problems.append("log-shipping-tls: no rsyslog omfwd action")
        for b in forwards:
            if (b.get("streamdriver"), b.get("streamdrivermode")) != ("gtls", "1") \
                    or not b.get("streamdriverauthmode", "").startswith("x509/"):
                problems.append(f"log-shipping-tls: omfwd to {b.get('target')} is not TLS with x509 "
                                "peer authentication")
        if any(re.search(r"^[^#\n]*\s@@?[\[A-Za-z0-9]", t, re.M) for t in rsyslog):
            problems.append("log-shipping-tls: legacy @/@@ forwarding (plaintext) configured")
    if "log-collector-tls" in measures:
        inputs = _blocks(rsyslog, "input")
        if "rsyslog-gnutls" not in packages:
            problems.append("log-collector-tls: package rsyslog-gnutls not installed")
        if not inputs:
            problems.append("log-collector-tls: no rsyslog network input")
        for b in inputs:
            tls = (b.get("streamdriver.name"), b.get("streamdriver.mode")) == ("gtls", "1")
            x509 = b.get("streamdriver.authmode", "").startswith("x509/")
            if b.get("type") != "imtcp" or not tls or not x509:
                problems.append(f"log-collector-tls: input {b.get('type')} port {b.get('port')} is not TLS "
                                "with x509 client authentication")
    if "audit" in measures:
        rules = _files(doc, "/etc/audit/rules.d/", ".rules")
        if "auditd" not in packages or not any(re.search(r"^\s*-[wa]\s", t, re.M) for t in rules):
            problems.append("audit: auditd not installed or no audit rules written")
    if "file-integrity" in measures:
        paths = [str(f.get("path", "")) for f in doc.get("write_files") or [] if isinstance(f, dict)]
        has_conf = any("aide" in p and p.endswith(".conf") for p in paths)
        has_timer = any("aide" in p and p.endswith(".timer") for p in paths)
        if "aide" not in packages or not has_conf or not has_timer:
            problems.append("file-integrity: aide not installed, or no AIDE configuration and timer")
    return problems


class InstanceLoggingEvidence(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure instances with personal data log locally, ship logs over TLS and detect "
                 "intrusions as their deployment does, and that their user data configures it",
            id=ID, categories=[CheckCategories.LOGGING],
            supported_resources=[RESOURCE], guideline=guideline(ID))
        self.severity = severity("MEDIUM")

    def _fail(self, why: str) -> CheckResult:
        self.details.append(why)
        return CheckResult.FAILED

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        if not is_expanded(conf):
            return self._fail("count/for_each not expanded by Checkov: evidence unresolved")
        measures = measures_of(conf)
        if isinstance(measures, Unresolved):
            return self._fail(f"ssb_measures {measures}")
        nodes = graph_blocks(self.graph)
        relative = entity_file(self.entity_path)
        root = scan_root(nodes, relative)
        address = conf.get("__address__")
        me = [n for n in nodes if n.get("block_type_") == "resource" and n.get("__address__") == address
              and root is not None and n.get("file_path_") == root + relative]
        if len(me) != 1:
            return self._fail("scan graph unavailable: cannot place the instance in its deployment")
        deployment = deployment_dir(me[0])
        peers = [block_config(n) for n in nodes if n.get("resource_type") == RESOURCE
                 and deployment_dir(n) == deployment]
        peer_measures = [m for m in map(measures_of, peers) if isinstance(m, set)]
        collector = any("log-collector-tls" in m for m in peer_measures)
        ids = any({"audit", "file-integrity"} & m for m in peer_measures)

        if holds_personal_data(conf, "metadata"):
            missing = [] if "local-logs" in measures else ["local-logs"]
            if collector and not {"log-shipping-tls", "log-collector-tls"} & measures:
                missing.append("log-shipping-tls (the deployment has a log collector)")
            if ids:
                missing += [f"{m} (the deployment runs intrusion detection)"
                            for m in ("audit", "file-integrity") if m not in measures]
            if missing:
                return self._fail(f"ssb_measures lacks {', '.join(missing)}")
        declared = measures & set(LOGGING)
        if not declared:
            return CheckResult.PASSED
        doc = cloud_config(conf.get("user_data"), deployment)
        if isinstance(doc, str):
            return self._fail(doc)
        problems = evidence_problems(doc, declared)
        if problems:
            self.details.extend(problems)
            return CheckResult.FAILED
        return CheckResult.PASSED


check = InstanceLoggingEvidence()
