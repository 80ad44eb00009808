"""User data as the guest reads it (plain, base64, base64 of gzip, MIME multi-part, file(),
templatefile()), what it runs, and the secrets it holds."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

import pytest

from generator.evidence.userdata import (
    NotRead,
    UserData,
    cloud_config,
    decode_user_data,
    executed_text,
    guest_encryption_problem,
    hcl_user_data,
    measures_of,
    read_expression,
    secrets_in,
)
from generator.evidence.values import Unresolved

from ..conftest import ROOT

MIME = ('Content-Type: multipart/mixed; boundary="XX"\nMIME-Version: 1.0\n\n--XX\n'
        'Content-Type: text/x-shellscript\n\n#!/bin/sh\ncryptsetup luksFormat /dev/vdb\n--XX\n'
        'Content-Type: text/cloud-config\n\n#cloud-config\npackages: [auditd]\n--XX--\n')


def test_user_data_is_read_as_the_guest_reads_it() -> None:
    text = "#cloud-config\npackages: [aide]\n"
    assert decode_user_data(text) == text
    assert decode_user_data(base64.b64encode(text.encode()).decode()) == text
    assert decode_user_data(base64.b64encode(gzip.compress(text.encode())).decode()) == text


def test_the_cloud_config_part_of_a_multipart_message_and_what_runs() -> None:
    data = UserData(MIME, "planned")
    assert cloud_config(data) == {"packages": ["auditd"]}
    assert "luksFormat" in executed_text(data)


def test_a_file_or_template_named_by_the_expression_is_read(tmp_path: Path) -> None:
    (tmp_path / "init.yaml").write_text("#cloud-config\nwrite_files: []\n")
    (tmp_path / "init.tftpl").write_text("#cloud-config\nruncmd: ['echo ${name}']\n")
    found = hcl_user_data({"user_data": ['file("${path.module}/init.yaml")']}, [str(tmp_path)])
    assert isinstance(found, UserData) and cloud_config(found) == {"write_files": []}
    found = read_expression("templatefile(\"${path.module}/init.tftpl\",{'name': 'var.name'})",
                            ["/nowhere", str(tmp_path)])
    assert isinstance(found, UserData) and found.template and found.bindings == {"name": "var.name"}
    missing = read_expression('file("${path.module}/gone.yaml")', [str(tmp_path)])
    assert isinstance(missing, NotRead) and "not found" in missing


def test_what_is_not_read_or_not_a_cloud_config_says_so() -> None:
    assert "not a cloud-config" in cloud_config(UserData("#!/bin/sh\necho hi\n", "x"))
    assert "no user_data" in cloud_config(None)
    unread = hcl_user_data({"user_data": ["${var.user_data}"]}, ["/nowhere"])
    assert isinstance(unread, NotRead) and "scan DIR --plan" in unread


def test_declared_measures() -> None:
    assert measures_of({"metadata": [{"ssb_measures": "local-logs, audit  luks-tang"}]}) == \
        {"local-logs", "audit", "luks-tang"}
    assert measures_of({}) == set()
    assert isinstance(measures_of({"metadata": ["${var.metadata}"]}), Unresolved)


@pytest.mark.parametrize(("text", "problem"), [
    ("#!/bin/sh\ncryptsetup luksFormat /dev/vdb k\nclevis luks bind -d /dev/vdb tang '{}'\n", None),
    ("#!/bin/sh\ncryptsetup luksFormat /dev/vdb /root/key\n", "binds no key to Tang"),
    ("#cloud-config\nwrite_files:\n- path: /usr/local/sbin/enc\n"
     "  content: 'luksFormat; clevis luks bind tang'\n", "runs no LUKS"),  # written, never run
    ("#cloud-config\nruncmd: [/usr/local/sbin/enc]\nwrite_files:\n- path: /usr/local/sbin/enc\n"
     "  content: 'luksFormat; clevis luks bind tang'\n", None),
])
def test_guest_encryption_is_judged_by_what_runs(text: str, problem: str | None) -> None:
    found = guest_encryption_problem(UserData(text, "x"))
    assert (found is None) if problem is None else (problem in str(found))


def test_the_generated_guest_program_encrypts_with_tang_and_holds_no_secret() -> None:
    for path in sorted((ROOT / "blueprints").rglob("cloud-init/*.yaml")):
        data = UserData(path.read_text("utf-8"), path.name)
        assert secrets_in(data) == [], path
    db = ROOT / "blueprints" / "patient-portal" / "cloud-init" / "db.yaml"
    assert guest_encryption_problem(UserData(db.read_text("utf-8"), "db.yaml")) is None


@pytest.mark.parametrize(("text", "template", "found"), [
    ("#!/bin/bash\nexport DB_PASSWORD=hunter2\n", False, ["DB_PASSWORD in the user data (x)"]),
    ("#!/bin/bash\nDB_PASSWORD=$(cat /run/secrets/db)\nmysql -p$DB_PASSWORD\n", False, []),
    ("#cloud-config\nssh_pwauth: false\nchpasswd: {expire: false}\nusers: [{name: a, lock_passwd: true}]\n",
     False, []),
    ("#cloud-config\npassword: s3cret!\n", False, ["cloud-config password (x)"]),
    ("#cloud-config\nchpasswd: {list: 'root:RANDOM'}\n", False, []),
    ("#cloud-config\nwrite_files:\n- path: /etc/ssl/private/site.key\n  content: |\n"
     "    -----BEGIN PRIVATE KEY-----\n    MIIE\n    -----END PRIVATE KEY-----\n", False,
     ["a private key (PEM) in write_files /etc/ssl/private/site.key (x)"]),
    ("#cloud-config\nruncmd:\n- [sh, -c, 'echo token: abc123def456 > /etc/rke2.yaml']\n", False,
     ["token in runcmd (x)"]),
    ("#!/bin/sh\n# PasswordAuthentication no\nsed -i 's/^PasswordAuthentication.*/x/' f\n", False, []),
    ("#!/bin/sh\necho AKIAABCDEFGHIJKLMNOP\n", False, ["an AWS access key id in the user data (x)"]),
    ("#cloud-config\nruncmd:\n- echo \"DB_PASSWORD=${db_password}\" >> /etc/app.env\n- echo $${HOME}\n",
     True, ["DB_PASSWORD in runcmd (x), set by the template from random_password.db.result"]),
])
def test_secrets_are_named_never_shown(text: str, template: bool, found: list[str]) -> None:
    data = UserData(text, "x", template, {"db_password": "random_password.db.result"} if template else {})
    assert secrets_in(data) == found


@pytest.mark.parametrize(("text", "bindings", "found"), [
    # A generated key passed through a function in the interpolation.
    ("#cloud-config\nwrite_files:\n- path: /home/u/.ssh/key.pem\n  content: |\n"
     "    ${indent(4, private_key)}\n", {"private_key": "tls_private_key.k.private_key_pem"},
     ["a private key in write_files /home/u/.ssh/key.pem (t), set by the template from "
      "tls_private_key.k.private_key_pem"]),
    # The line's key says nothing (encrypt), the placeholder's name does.
    ("#!/bin/sh\ncat > /etc/consul.hcl <<EOF\nencrypt = \"${gossip_token}\"\nEOF\n",
     {"gossip_token": "var.gossip"},
     ["a value named gossip_token in the user data (t), set by the template from var.gossip"]),
    # Not secrets: a public key, a file path, an escaped $${...}, an unused binding.
    ("#!/bin/sh\necho ${ssh_public_key} >> k\necho ${token_file}\necho $${api_token}\n",
     {"ssh_public_key": "var.pub", "token_file": "var.f", "api_token": "var.t"}, []),
])
def test_a_template_value_named_or_bound_as_a_secret_is_found(
        text: str, bindings: dict[str, str], found: list[str]) -> None:
    assert secrets_in(UserData(text, "t", True, bindings)) == found


def test_a_value_checkov_substituted_into_a_template_is_not_shown() -> None:
    data = UserData("#!/bin/sh\nDB_PASSWORD=${db_password}\n", "t", True, {"db_password": "hunter2"})
    assert secrets_in(data) == ["DB_PASSWORD in the user data (t), set by the template from its variable "
                                "db_password"]


@pytest.mark.parametrize(("text", "gives"), [
    ("#cloud-config\npackages: [nginx]\n", False),
    ("#cloud-config\nchpasswd:\n  expire: false\nusers:\n  - name: app\n    lock_passwd: true\n", False),
    ("#!/bin/sh\nuseradd --no-create-home --shell /usr/sbin/nologin prometheus\n", False),
    ("#!/bin/sh\nuseradd -m ops\n", True),
    ("#cloud-config\nusers:\n  - name: ops\n    ssh_authorized_keys: [ssh-ed25519 AAAA ops]\n", True),
    ("#cloud-config\nruncmd:\n  - echo key >> /root/.ssh/authorized_keys\n", True),
    ("#cloud-config\n: [\n", None),
])
def test_what_gives_a_login_in_user_data(text: str, gives: bool | None) -> None:
    """A service account without a shell is no login (a monitoring stack's `prometheus` user
    was taken for one on public code); an account with a key or a shell is."""
    from generator.evidence.userdata import UserData, gives_login

    assert gives_login(UserData(text, "written in the .tf file")) is gives
