"""Prepare a Terraform toolchain that runs init/validate/plan with no network.

:func:`prepare` builds, once per user and cached, a filesystem mirror holding the
schema-only OpenStack provider (:mod:`generator.terraform.provider`) and writes a
Terraform CLI config that installs providers from that mirror and from the machine's
own mirror (the aws provider). It never touches the user's ``~/.terraformrc``.

Never commit a ``.terraform.lock.hcl`` made with this toolchain: the OpenStack entry
hashes a local launcher script, not the real provider.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from generator.cache import cache_root
from generator.errors import MissingPrerequisite
from generator.terraform import TERRAFORM_MISSING
from generator.terraform.schema import (
    PROVIDER_ADDRESS,
    PROVIDER_VERSION,
    SchemaSourceMissing,
    find_assembly,
    load_schema,
    schema_cache_path,
    schema_fingerprint,
    write_atomic,
)

MIRROR_ENV = "SAFESPRING_BLUEPRINTS_TF_MIRROR"
"""Overrides the machine's provider mirror (the directory holding ``registry.terraform.io``)."""
DEFAULT_MIRRORS = (
    Path("/opt/tf-plugins"),
    Path("/usr/share/terraform/plugins"),
    Path("/usr/local/share/terraform/plugins"),
)
PLATFORM = "linux_amd64"
_SCHEMA_ENV = "SAFESPRING_BLUEPRINTS_OPENSTACK_SCHEMA"  # read by generator.terraform.provider


class ToolchainError(MissingPrerequisite):
    """A prerequisite of the offline toolchain is missing; the message says which and how to fix it."""


@dataclass(frozen=True)
class Toolchain:
    """Everything needed to run Terraform offline against OpenStack (and aws)."""

    terraform: Path
    cache_dir: Path
    mirror: Path
    provider_executable: Path
    cli_config: Path
    schema_path: Path
    system_mirror: Path | None
    env: dict[str, str] = field(default_factory=dict)

    def environ(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (default ``os.environ``) overlaid with this toolchain's variables."""
        return {**(os.environ if base is None else base), **self.env}


def _cache_key() -> str:
    try:
        from generator import __version__ as version  # type: ignore[attr-defined]
    except ImportError:
        version = "dev"
    # The schema hash is part of the key so a new bindings package never reuses a stale mirror.
    return f"{version}-{schema_fingerprint()}"


def find_system_mirror() -> Path | None:
    """The machine's filesystem mirror (parent of ``registry.terraform.io``), if any."""
    override = os.environ.get(MIRROR_ENV)
    if override:
        path = Path(override)
        if not (path / "registry.terraform.io").is_dir():
            raise ToolchainError(
                f"{MIRROR_ENV}={override} does not hold a registry.terraform.io directory "
                "(it must name a Terraform filesystem mirror)."
            )
        return path
    for candidate in DEFAULT_MIRRORS:
        if (candidate / "registry.terraform.io").is_dir():
            return candidate
    for root in (Path("/opt"), Path("/usr/local/share"), Path("/usr/share"), Path.home()):
        try:
            for child in root.iterdir():
                if (child / "registry.terraform.io").is_dir():
                    return child
        except OSError:
            continue
    return None


def _launcher(python: str, package_root: Path, schema: Path) -> str:
    """Shell launcher Terraform runs as the provider binary."""
    return (
        "#!/bin/sh\n"
        "# Schema-only terraform-provider-openstack written by generator.terraform.offline.\n"
        f"{_SCHEMA_ENV}={shlex.quote(str(schema))}\n"
        f"export {_SCHEMA_ENV}\n"
        f'PYTHONPATH={shlex.quote(str(package_root))}"${{PYTHONPATH:+:$PYTHONPATH}}"\n'
        "export PYTHONPATH\n"
        # -P: never import from Terraform's working directory.
        f'exec {shlex.quote(python)} -P -m generator.terraform.provider "$@"\n'
    )


def _cli_config(mirror: Path, system_mirror: Path | None) -> str:
    openstack = PROVIDER_ADDRESS
    lines = [
        "# Written by generator.terraform.offline: offline provider installation.",
        "provider_installation {",
        "  filesystem_mirror {",
        f"    path    = {_hcl_string(str(mirror))}",
        f'    include = ["{openstack}"]',
        "  }",
    ]
    if system_mirror is not None:
        lines += [
            "  filesystem_mirror {",
            f"    path    = {_hcl_string(str(system_mirror))}",
            f'    exclude = ["{openstack}"]',
            "  }",
        ]
    lines += ["}", ""]
    return "\n".join(lines)


def _hcl_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${") + '"'


def prepare(cache_dir: Path | None = None) -> Toolchain:
    """Create (or reuse) the offline mirror and CLI config; safe to call from parallel processes."""
    terraform = shutil.which("terraform")
    if terraform is None:
        raise ToolchainError(TERRAFORM_MISSING)
    try:
        find_assembly()
        import tf.runner  # noqa: F401  (the provider needs it; fail here, not inside Terraform)
    except SchemaSourceMissing as exc:
        raise ToolchainError(str(exc)) from None
    except ImportError:
        raise ToolchainError(
            "The Python package 'tf' (1.2.0, Terraform plugin protocol v6) is not installed; "
            "install it with: pip install tf==1.2.0"
        ) from None

    cache = Path(cache_dir) if cache_dir is not None else cache_root() / _cache_key()
    cache.mkdir(parents=True, exist_ok=True)
    load_schema(cache)
    schema_path = schema_cache_path(cache)

    # The directory holding the ``generator`` package: site-packages or a source checkout.
    package_root = Path(__file__).resolve().parents[2]
    launcher = _launcher(sys.executable, package_root, schema_path).encode()
    # The launcher names this interpreter and checkout: key its directory by them, so two
    # virtualenvs sharing one cache never overwrite each other's provider.
    launcher_key = hashlib.sha256(launcher).hexdigest()[:12]
    mirror = cache / f"mirror-{launcher_key}"
    hostname, namespace, name = PROVIDER_ADDRESS.split("/")
    provider_dir = mirror / hostname / namespace / name / PROVIDER_VERSION / PLATFORM
    executable = provider_dir / f"terraform-provider-{name}_v{PROVIDER_VERSION}"
    if not executable.is_file() or executable.read_bytes() != launcher:
        write_atomic(executable, launcher, mode=0o755)

    system_mirror = find_system_mirror()
    cli_config = cache / f"terraform-{launcher_key}.tfrc"
    text = _cli_config(mirror, system_mirror).encode()
    if not cli_config.is_file() or cli_config.read_bytes() != text:
        write_atomic(cli_config, text)

    env = {
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
    }
    return Toolchain(
        terraform=Path(terraform),
        cache_dir=cache,
        mirror=mirror,
        provider_executable=executable,
        cli_config=cli_config,
        schema_path=schema_path,
        system_mirror=system_mirror,
        env=env,
    )
