"""Fixtures of the VM suite: the generated blueprint it boots, the images, an SSH key.

Every test here boots QEMU (TCG) and is marked `vm`; `pytest -m "not vm"` runs the rest.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from generator import api
from tests.conftest import TODAY
from tests.vm import image
from tests.vm.lab import BOOT_PROFILES, TIMINGS

SPEC = Path(__file__).with_name("specs") / "vmtest.yaml"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.vm)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("vm: measured times (QEMU/TCG)")
        for label, seconds in TIMINGS:
            terminalreporter.write_line(f"{seconds:8.1f} s  {label}")
    if BOOT_PROFILES:
        terminalreporter.section("vm: the slowest units of each first boot (systemd-analyze blame)")
        for label, blame in BOOT_PROFILES:
            terminalreporter.write_line(f"{label}:")
            for line in blame.splitlines():
                terminalreporter.write_line(f"    {line.strip()}")


@pytest.fixture(scope="session")
def person_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """vm.tester's own SSH key (the spec gets its public half)."""
    key = tmp_path_factory.mktemp("person") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vm.tester", "-f",
                    str(key)], check=True)
    return key


@pytest.fixture(scope="session")
def vm_blueprint(tmp_path_factory: pytest.TempPathFactory, person_key: Path) -> Path:
    """The VM spec's blueprint, generated as a user would (the date pinned like the golden
    files), with vm.tester's public key in its access entry."""
    work = tmp_path_factory.mktemp("vm-blueprint")
    entry = "  - name: vm.tester\n    kind: person\n    role: member\n    expires: 2027-06-30\n"
    text = SPEC.read_text("utf-8")
    assert entry in text, "vmtest.yaml's vm.tester entry moved: update this fixture"
    public = person_key.with_suffix(".pub").read_text().strip()
    spec = work / "vmtest.yaml"
    spec.write_text(text.replace(entry, f"{entry}    ssh_key: {public}\n"), "utf-8")
    target = work / "vmtest"
    api.generate(spec, target, on=TODAY)
    return target


@pytest.fixture(scope="session")
def vm_packages(vm_blueprint: Path) -> tuple[str, ...]:
    """Every package any group's first boot installs: the images carry them all."""
    found: set[str] = set()
    for path in sorted((vm_blueprint / "cloud-init").glob("*.yaml")):
        found |= set(yaml.safe_load(path.read_text()).get("packages", []))
    return tuple(sorted(found))


def _image(name: str, packages: tuple[str, ...], factory: pytest.TempPathFactory) -> image.Image:
    log = factory.getbasetemp() / f"image-{name}.log"
    return image.build(name, packages, log=log)


@pytest.fixture(scope="session")
def debian12(vm_packages: tuple[str, ...], tmp_path_factory: pytest.TempPathFactory) -> image.Image:
    return _image("debian-12", vm_packages, tmp_path_factory)


@pytest.fixture(scope="session")
def debian13(vm_packages: tuple[str, ...], tmp_path_factory: pytest.TempPathFactory) -> image.Image:
    return _image("debian-13", vm_packages, tmp_path_factory)


@pytest.fixture(scope="session")
def ssh_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = tmp_path_factory.mktemp("ssh") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key
