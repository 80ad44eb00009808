"""The generated README says what a reader must do that the configuration cannot."""

from __future__ import annotations

from pathlib import Path

from generator import blueprint
from generator.features.endpoints import tls_paths
from generator.spec import check_file
from tests.conftest import FIXTURES, TODAY


def _render(tmp_path: Path, certificate: str) -> dict[str, str]:
    spec = tmp_path / "clinic.yaml"
    text = (FIXTURES / "specs" / "valid.yaml").read_text()
    spec.write_text(text.replace("certificate: acme", f"certificate: {certificate}"))
    return {k: v.decode() for k, v in blueprint.render(check_file(spec, TODAY).spec).items()}


def test_a_provided_certificate_is_placed_where_the_readme_says(tmp_path: Path) -> None:
    """Caddy serves nothing until the chain and key are on the instance: the README names the
    same paths the proxy configuration in cloud-init reads them from."""
    files = _render(tmp_path, "provided")
    crt, key = tls_paths("portal")
    readme = " ".join(files["README.md"].split())
    assert f"put the full chain (PEM) at `{crt}` and its key at `{key}`" in readme
    assert "run `systemctl restart caddy`" in readme
    assert f"tls {crt} {key}" in files["cloud-init/web.yaml"]


def test_an_acme_endpoint_has_no_placement_instructions(tmp_path: Path) -> None:
    files = _render(tmp_path, "acme")
    readme = files["README.md"]
    assert "| `https://portal.example.se` | group `web` |" in readme and "Let's Encrypt" in readme
    assert "/etc/safespring-blueprints/tls/" not in readme
