"""CKV_GDPR_17: instances log locally, ship logs over TLS and detect intrusions, for real.

Two things are checked on every instance holding personal data:

1. What it must declare (metadata ssb_measures): `local-logs` always; `log-shipping-tls` (or
   `log-collector-tls` on the collector) when its deployment has a log collector; `audit` and
   `file-integrity` when the deployment runs intrusion detection anywhere. The deployment is
   every instance rendered from the same root module, read from the scan graph. An instance
   that declares nothing (no ssb_measures key) is UNKNOWN, not FAIL: its image or a
   configuration tool may keep its logs, and the code does not say.
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

import re
from typing import Any

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.hcl import block_config, deployment_dir
from generator.evidence.scope import Scope
from generator.evidence.userdata import (
    NotRead,
    declares_measures,
    instance_cloud_config,
    measures_of,
)
from generator.evidence.values import Unresolved, holds_personal_data, map_value

RESOURCE = "openstack_compute_instance_v2"
LOGGING = ("local-logs", "log-shipping-tls", "log-collector-tls", "audit", "file-integrity")
_BLOCK = re.compile(r"\b(?P<kind>action|input)\s*\((?P<body>[^()]*)\)", re.S)
_PARAM = re.compile(r'(?P<key>[A-Za-z0-9_.]+)\s*=\s*"(?P<value>[^"]*)"')


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


def _classification(conf: dict[str, Any]) -> str:
    value = map_value(conf, "metadata", "ssb_classification")
    return f"ssb_classification {value}" if isinstance(value, str) else "no ssb_classification says otherwise"


class InstanceLoggingEvidence(ResourceCheck):
    ID = "CKV_GDPR_17"

    def _peers(self, scope: Scope) -> tuple[list[dict[str, Any]], str] | str:
        """The instances of the deployment (as confs) and the root module's directory."""
        if scope.plan is not None:
            # A plan is one root module: every instance in it is the deployment.
            peers = [{"metadata": [r.values.get("metadata")]} for r in scope.plan.of_type(RESOURCE)]
            return peers, str(scope.source_root or "")
        nodes = scope.nodes
        me = scope.node
        if me is None:
            return "scan graph unavailable: cannot place the instance in its deployment"
        deployment = deployment_dir(me)
        peers = [block_config(n) for n in nodes if n.get("resource_type") == RESOURCE
                 and deployment_dir(n) == deployment]
        return peers, deployment

    def judge(self, scope: Scope) -> Verdict:
        conf = scope.conf
        measures = measures_of(conf)
        if isinstance(measures, Unresolved):
            return unknown(f"ssb_measures is {measures}")
        found = self._peers(scope)
        if isinstance(found, str):
            return unknown(found)
        peers, _ = found
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
            if missing and not declares_measures(conf):
                # No declaration at all: the image or a configuration tool may keep the logs
                # (a stock Debian or Ubuntu image keeps a persistent journal), which the code
                # does not show either way.
                return unknown(f"holds personal data ({_classification(conf)}) and nothing in "
                               "the code says how its logs are kept (no metadata ssb_measures):"
                               f" declare {', '.join(missing)} in ssb_measures where the "
                               "instance keeps them, and set them up in its cloud-config "
                               "user_data, which this check then reads")
            if missing:
                return fail(f"holds personal data ({_classification(conf)}) but its metadata "
                            f"ssb_measures does not declare {', '.join(missing)}: declare each "
                            "measure and set it up in its cloud-config user_data")
        declared = measures & set(LOGGING)
        if not declared:
            return PASS
        doc = instance_cloud_config(scope)
        if isinstance(doc, NotRead):
            return unknown(doc)
        if isinstance(doc, str):
            return fail(doc)
        problems = evidence_problems(doc, declared)
        return fail(*problems) if problems else PASS


check = InstanceLoggingEvidence()
