"""prepare() lays out the mirror and CLI config, is idempotent and safe in parallel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator.terraform import offline
from generator.terraform.offline import MIRROR_ENV, Toolchain, ToolchainError, prepare

ROOT = Path(offline.__file__).resolve().parents[2]


def test_layout(offline_toolchain: Toolchain) -> None:
    exe = offline_toolchain.provider_executable
    rel = exe.relative_to(offline_toolchain.mirror)
    assert rel.as_posix() == (
        "registry.terraform.io/terraform-provider-openstack/openstack/3.0.0/linux_amd64/"
        "terraform-provider-openstack_v3.0.0"
    )
    assert os.access(exe, os.X_OK)
    launcher = exe.read_text()
    assert sys.executable in launcher and "-m generator.terraform.provider" in launcher
    assert offline_toolchain.schema_path.is_file()


def test_cli_config_and_env(offline_toolchain: Toolchain) -> None:
    config = offline_toolchain.cli_config.read_text()
    assert config.count("filesystem_mirror") == 2
    assert f'"{offline_toolchain.mirror}"' in config
    assert f'"{offline_toolchain.system_mirror}"' in config
    assert "direct" not in config
    env = offline_toolchain.env
    assert env["TF_CLI_CONFIG_FILE"] == str(offline_toolchain.cli_config)
    assert env["CHECKPOINT_DISABLE"] == "1" and env["TF_IN_AUTOMATION"] == "1"
    assert offline_toolchain.cli_config != Path.home() / ".terraformrc"


def test_prepare_is_idempotent(offline_toolchain: Toolchain) -> None:
    before = offline_toolchain.provider_executable.stat().st_mtime_ns
    again = prepare(offline_toolchain.cache_dir)
    assert again == offline_toolchain
    assert again.provider_executable.stat().st_mtime_ns == before


def test_parallel_prepare(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from generator.terraform.offline import prepare; "
        "print(prepare(Path(sys.argv[1])).provider_executable)"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert len({out.strip() for out, _err in outputs}) == 1
    leftovers = [p for p in tmp_path.rglob("*.tmp")]
    assert leftovers == []


def test_missing_terraform_is_a_readable_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainError, match="terraform is not on PATH"):
        prepare(tmp_path / "cache")


def test_mirror_override_must_be_a_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path))
    with pytest.raises(ToolchainError, match=MIRROR_ENV):
        prepare(tmp_path / "cache")


def test_mirror_override_is_used(
    offline_toolchain: Toolchain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mirror" / "registry.terraform.io").mkdir(parents=True)
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path / "mirror"))
    toolchain = prepare(tmp_path / "cache")
    assert toolchain.system_mirror == tmp_path / "mirror"
    assert f'"{tmp_path / "mirror"}"' in toolchain.cli_config.read_text()
