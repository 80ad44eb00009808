"""The egress section, the proxy group and the private groups' rules, as generated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from generator import blueprint
from generator.features import egress, network
from generator.features.egress import ALLOW_LIST, CONF, client_config
from generator.spec import SpecError, check_text
from generator.spec.model import EGRESS_GROUP, Spec
from tests.conftest import ROOT, TODAY

PORTAL = (ROOT / "blueprints" / "patient-portal.yaml").read_text("utf-8")


def _spec(text: str) -> Spec:
    return check_text(text, "spec.yaml", TODAY).spec


def _problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as err:
        check_text(text, "spec.yaml", TODAY)
    return [p.format("spec.yaml") for p in err.value.problems]


def _cloud_config(files: dict[str, bytes], group: str) -> dict:
    return yaml.safe_load(files[f"cloud-init/{group}.yaml"])


def _file(config: dict, path: str) -> str:
    return next(f["content"] for f in config["write_files"] if f["path"] == path)


def test_a_private_group_has_no_world_egress_only_the_proxy() -> None:
    spec = _spec(PORTAL)
    rules = network.rules(spec, spec.group("db"))
    egress_rules = {k: r for k, r in rules.items() if r["direction"] == "egress"}
    assert not [k for k, r in egress_rules.items()
                if r.get("remote_ip_prefix") in ("0.0.0.0/0", "::/0")]
    assert {(r["protocol"], r["port_range_min"]) for r in egress_rules.values()
            if r.get("remote_group") == EGRESS_GROUP} == {("tcp", 3128), ("udp", 123)}
    cidrs = {r["remote_ip_prefix"] for r in egress_rules.values() if "remote_ip_prefix" in r}
    assert cidrs == {"169.254.169.254/32"}
    # Groups on `default` keep their outbound web, DNS and NTP.
    web = network.rules(spec, spec.group("web"))
    assert "egress-tcp-443-world-ipv4" in web


def test_the_allow_list_names_the_tang_servers_and_the_backup_sites_storage() -> None:
    spec = _spec(PORTAL)
    allowed = {a.host: a.reason for a in egress.allowed(spec)}
    assert allowed == {
        "s3.sto2.safedc.net": "safespring-storage", "s3.sto1.safedc.net": "safespring-storage",
        "tang1.example.se": "tang", "tang2.example.se": "tang",
        "archive.ubuntu.com": "mirror", "security.ubuntu.com": "mirror"}


def test_the_proxy_group_runs_squid_on_the_allow_list_and_serves_time() -> None:
    spec = _spec(PORTAL)
    proxy = spec.group(EGRESS_GROUP)
    assert (proxy.count, proxy.network) == (2, "default")
    files = blueprint.render(spec)
    config = _cloud_config(files, EGRESS_GROUP)
    assert {"squid", "chrony"} <= set(config["packages"])
    conf = _file(config, CONF)
    assert ("acl ssb_allowed dstdomain -n s3.sto2.safedc.net s3.sto1.safedc.net "
            "tang1.example.se tang2.example.se archive.ubuntu.com security.ubuntu.com") in conf
    assert conf.index("http_access deny !ssb_allowed") < conf.index("http_access allow CONNECT")
    assert "http_access deny all" in conf and "access_log syslog:daemon.info squid" in conf
    listing = json.loads(_file(config, ALLOW_LIST))
    assert {a["host"] for a in listing["allow"]} >= {"tang1.example.se", "s3.sto1.safedc.net"}
    assert "allow 10.0.0.0/8" in _file(config, "/etc/chrony/conf.d/ssb-egress-serve.conf")
    # The proxy ships its logs (so the access log) to the collector.
    assert "log-shipping-tls" in proxy_measures(files)


def test_squid_serves_the_private_subnet_not_all_private_address_space() -> None:
    """The audit: Squid's client ACL admitted all of 10/8, 172.16/12, 192.168/16 and
    100.64/10 (every Safespring tenant's default and private networks). Now it admits the
    private network's subnet, which Terraform reads from the platform and gives the proxy as
    metadata; ssb-egress-proxy writes it for Squid before Squid starts."""
    files = blueprint.render(_spec(PORTAL))
    config = _cloud_config(files, EGRESS_GROUP)
    acl = [line for line in _file(config, CONF).splitlines() if line.startswith("acl ssb_clients")]
    assert acl == ['acl ssb_clients src "/run/safespring-blueprints/egress-clients.acl"',
                   "acl ssb_clients src 127.0.0.1/32 ::1"]
    dropin = _file(config, "/etc/systemd/system/squid.service.d/safespring-blueprints.conf")
    starts = [line for line in dropin.splitlines() if line.startswith("ExecStartPre=/")]
    assert starts[0] == "ExecStartPre=/usr/local/sbin/ssb-egress-proxy clients"
    main = files["main.tf"].decode()
    block = main[main.index('module "egress_proxy"'):]
    block = block[:block.index("\n}\n")]
    assert ('ssb_egress_clients = join(" ", compact([data.openstack_networking_subnet_v2.'
            'private_ipv4.cidr]))') in block
    assert 'data "openstack_networking_subnet_v2" "private_ipv4" {' in main


def proxy_measures(files: dict[str, bytes]) -> str:
    text = files["main.tf"].decode()
    block = text[text.index('module "egress_proxy"'):]
    return block[block.index("ssb_measures"):block.index("\n", block.index("ssb_measures"))]


def test_private_groups_send_apt_tang_backups_and_time_through_the_proxy() -> None:
    spec = _spec(PORTAL)
    files = blueprint.render(spec)
    config = _cloud_config(files, "db")
    apt = _file(config, "/etc/apt/apt.conf.d/90ssb-egress-proxy")
    assert 'Acquire::https::Proxy-Auto-Detect "/usr/local/sbin/ssb-egress-proxy";' in apt
    for unit in ("ssb-volumes.service", "ssb-backup.service"):
        dropin = _file(config, f"/etc/systemd/system/{unit}.d/ssb-egress-proxy.conf")
        assert "EnvironmentFile=-/run/safespring-blueprints/egress-proxy.env" in dropin
    assert "sourcedir /run/safespring-blueprints/chrony" in _file(
        config, "/etc/chrony/conf.d/ssb-egress-proxy.conf")
    # The proxy's part comes first: its unit is enabled before the volumes are started.
    runcmd = [" ".join(c) for c in config["runcmd"]]
    assert runcmd.index("systemctl enable --now ssb-egress-proxy.service") < runcmd.index(
        "systemctl start --no-block ssb-volumes.service")
    main = files["main.tf"].decode()
    assert 'ssb_egress_proxy   = join(" ", module.egress_proxy.access_ip_v4)' in main
    assert "web.yaml" not in [p for p in files if "egress-proxy" in files[p].decode()
                              and p.startswith("cloud-init/web")]


def test_proxy_none_keeps_world_egress_and_adds_no_proxy() -> None:
    spec = _spec(PORTAL + "\negress:\n  proxy: none\n")
    assert spec.egress_proxy is None and EGRESS_GROUP not in [g.name for g in spec.groups]
    assert "egress-tcp-443-world-ipv4" in network.rules(spec, spec.group("db"))


def test_one_instance_and_extra_hosts() -> None:
    spec = _spec(PORTAL + "\negress:\n  instances: 1\n  allow: [mirror.example.se]\n")
    assert spec.group(EGRESS_GROUP).count == 1
    assert ("mirror.example.se", "listed") in {(a.host, a.reason) for a in egress.allowed(spec)}


def test_without_private_groups_nothing_changes() -> None:
    spec = _spec(PORTAL.replace("network: private", "network: default"))
    assert spec.egress_proxy is None and egress.allowed(spec) == ()


def test_bad_egress_input_is_located() -> None:
    problems = _problems(PORTAL + "\negress:\n  proxy: sometimes\n  allow: ['https://x.se/']\n"
                         "  instances: 3\n")
    text = "\n".join(problems)
    assert "egress.proxy" in text and "egress.allow" in text and "egress.instances" in text
    assert all(p.startswith("spec.yaml:") for p in problems)


def test_the_proxy_name_is_reserved_when_the_proxy_is_added() -> None:
    text = PORTAL.replace("  - name: web\n", "  - name: egress-proxy\n", 1).replace(
        "instance: web", "instance: egress-proxy")
    assert any("'egress-proxy' is the name of the egress proxy" in p for p in _problems(text))


def test_client_config_is_deterministic_and_complete() -> None:
    config = client_config()
    paths = [path for path, _, _ in config.files]
    assert paths == sorted(paths) and "/usr/local/sbin/ssb-egress-proxy" in paths
    assert Path("/etc/sudoers.d/ssb-egress-proxy").as_posix() in paths
