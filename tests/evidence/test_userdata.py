"""User data as the guest reads it: plain, base64, base64 of gzip, MIME multi-part, file()."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

from generator.evidence.userdata import cloud_config, decode_user_data, measures_of
from generator.evidence.values import Unresolved


def test_user_data_is_read_as_the_guest_reads_it() -> None:
    text = "#cloud-config\npackages: [aide]\n"
    assert decode_user_data(text) == text
    assert decode_user_data(base64.b64encode(text.encode()).decode()) == text
    assert decode_user_data(base64.b64encode(gzip.compress(text.encode())).decode()) == text


def test_the_cloud_config_part_of_a_multipart_message() -> None:
    message = ('Content-Type: multipart/mixed; boundary="XX"\nMIME-Version: 1.0\n\n--XX\n'
               'Content-Type: text/x-shellscript\n\n#!/bin/sh\necho hi\n--XX\n'
               'Content-Type: text/cloud-config\n\n#cloud-config\npackages: [auditd]\n--XX--\n')
    assert cloud_config([message], "/nowhere") == {"packages": ["auditd"]}


def test_a_file_named_by_the_expression_is_read(tmp_path: Path) -> None:
    (tmp_path / "init.yaml").write_text("#cloud-config\nwrite_files: []\n")
    assert cloud_config(['file("${path.module}/init.yaml")'], str(tmp_path)) == {"write_files": []}
    missing = cloud_config(['file("${path.module}/gone.yaml")'], str(tmp_path))
    assert isinstance(missing, str) and "unreadable" in missing


def test_what_is_not_a_cloud_config_says_so() -> None:
    assert "not a cloud-config" in str(cloud_config(["#!/bin/sh\necho hi\n"], "/nowhere"))
    assert "no user_data" in str(cloud_config([None], "/nowhere"))


def test_declared_measures() -> None:
    assert measures_of({"metadata": [{"ssb_measures": "local-logs, audit  luks-tang"}]}) == \
        {"local-logs", "audit", "luks-tang"}
    assert measures_of({}) == set()
    assert isinstance(measures_of({"metadata": ["${var.metadata}"]}), Unresolved)
