"""Platform facts live in one data file; the published schema agrees with it."""

from __future__ import annotations

import importlib.util
import re
from types import ModuleType

from generator.platform import platform
from generator.spec.schema import schema
from tests.conftest import ROOT


def _sync_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sync_platform",
                                                  ROOT / "scripts" / "sync_platform.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_schema_and_docs_list_what_platform_yaml_says() -> None:
    """Written by scripts/sync_platform.py: run it after editing platform.yaml."""
    sync = _sync_script()
    for path, synced in ((sync.SCHEMA, sync.synced_schema), (sync.DOCS, sync.synced_docs)):
        text = path.read_text("utf-8")
        assert synced(text) == text, f"{path.name} is out of date: python scripts/sync_platform.py"
    docs = sync.DOCS.read_text("utf-8")
    assert all(f"`{image}`" in docs for image in platform().images)
    assert all(f"`{size}`" in docs for f in platform().flavor_families.values() for size in f["sizes"])


def test_schema_enums_agree_with_the_platform_data() -> None:
    props = schema()["properties"]
    assert schema()["$defs"]["site"]["enum"] == list(platform().sites)
    assert schema()["$defs"]["flavor"]["enum"] == list(platform().flavors)
    assert schema()["$defs"]["image"]["enum"] == list(platform().images)
    item = props["instances"]["items"]["properties"]
    assert item["network"]["enum"] == list(platform().networks)
    assert item["volumes"]["items"]["properties"]["type"]["enum"] == list(platform().volume_types)


def test_flavors_cover_both_families() -> None:
    flavors = platform().flavors
    assert "b2.c2r4" in flavors and "l2.c2r4.100" in flavors and "l2.c2r4" not in flavors
    assert platform().flavor_family("b2.c4r16")["boot"] == "volume"
    assert platform().flavor_family("l2.c4r16.500")["storage"] == "local-single-copy"


def test_every_site_has_https_endpoints() -> None:
    for site in platform().sites.values():
        # ISO 3166 codes as text (a bare `NO` in YAML is false: "Oslo (False)" in an annex).
        assert isinstance(site.country, str) and re.fullmatch("[A-Z]{2}", site.country)
        assert site.auth_url.startswith(f"https://v2.dashboard.{site.name}.safedc.net")
        assert site.s3_endpoint == f"https://s3.{site.name}.safedc.net"


def test_the_collector_port_is_one_number() -> None:
    """The spec model opens the port the guest's rsyslog listens on: they must agree."""
    from generator.features.logging.guest import COLLECTOR_PORT as guest_port
    from generator.spec.model import COLLECTOR_PORT as model_port

    assert guest_port == model_port == 6514
    from generator.features.logging.guest import RENEWAL_PORT as guest_renewal
    from generator.spec.model import RENEWAL_PORT as model_renewal

    assert guest_renewal == model_renewal == 6515
