"""Generated cloud-init is valid YAML and carries the LUKS + Tang steps for every volume."""

from __future__ import annotations

import json

import pytest
import yaml

from generator import blueprint
from generator.render.cloudinit import GuestFile, MergeError, Part, merge
from generator.spec import check_file
from tests.conftest import FIXTURES, ROOT, TODAY


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return blueprint.render(check_file(FIXTURES / "specs" / "valid.yaml", TODAY).spec)


def cloud_config(files: dict[str, bytes], group: str) -> dict:
    text = files[f"cloud-init/{group}.yaml"].decode()
    assert text.startswith("#cloud-config\n")
    return yaml.safe_load(text)


def test_each_encrypted_volume_is_formatted_bound_and_mounted(files: dict[str, bytes]) -> None:
    for group, volumes in (("web", ["data"]), ("db", ["pgdata"])):
        config = cloud_config(files, group)
        written = {f["path"]: f for f in config["write_files"]}
        script = written["/usr/local/sbin/ssb-luks-tang"]
        assert script["permissions"] == "0755"
        assert script["content"].startswith("#!/usr/bin/python3")
        settings = json.loads(written["/etc/safespring-blueprints/luks-tang.json"]["content"])
        assert settings["tang_servers"] == ["https://tang1.example.se"]
        assert [v["name"] for v in settings["volumes"]] == volumes
        assert all(v["metadata_key"] == f"ssb_volume_{v['name']}" for v in settings["volumes"])
        # Run by a unit at every boot (retried until Tang answers), not once by runcmd.
        unit = written["/etc/systemd/system/ssb-volumes.service"]["content"]
        assert ("ExecStart=/usr/local/sbin/ssb-luks-tang --config "
                "/etc/safespring-blueprints/luks-tang.json start") in unit
        assert "Restart=on-failure" in unit
        assert ["systemctl", "enable", "ssb-volumes.service"] in config["runcmd"]
        assert ["systemctl", "start", "--no-block", "ssb-volumes.service"] in config["runcmd"]
        assert {"clevis", "clevis-luks", "cryptsetup"} <= set(config["packages"])
        assert config["ssh_pwauth"] is False


def test_the_volume_ids_reach_the_guest_under_the_same_metadata_key(files: dict[str, bytes]) -> None:
    main = files["main.tf"].decode()
    assert "volume_ids = {\n    data = module.volume_web_data.ids\n  }" in main
    module = files["modules/instance-group/main.tf"].decode()
    assert "ssb_volume_" in module


def test_groups_without_encrypted_volumes_get_no_luks_part() -> None:
    spec = check_file(ROOT / "blueprints" / "minimal.yaml", TODAY).spec
    config = yaml.safe_load(blueprint.render(spec)["cloud-init/app.yaml"])
    paths = {f["path"] for f in config["write_files"]}
    assert not [p for p in paths if "luks" in p]
    assert "cryptsetup" not in config["packages"]
    assert not [c for c in config["runcmd"] if "luks" in " ".join(c) or "ssb-volumes" in " ".join(c)]


def test_merge_is_ordered_and_rejects_conflicts() -> None:
    a = Part(measure="a", order=2, packages=("z", "y"), commands=(("second",),))
    b = Part(measure="b", order=1, packages=("y",), commands=(("first",),),
             files=(GuestFile("/etc/x", "1\n"),))
    merged = merge([a, b])
    assert merged["packages"] == ["y", "z"]
    assert merged["runcmd"] == [["first"], ["second"]]
    clash = Part(measure="c", order=3, files=(GuestFile("/etc/x", "2\n"),))
    with pytest.raises(MergeError, match="/etc/x"):
        merge([b, clash])
