"""The HTML report renders in a real browser (headless Chromium) to a page that is not blank."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

from generator.report import build, to_html
from generator.scan import ScanResult
from tests.conftest import TODAY
from tests.report.conftest import BLUEPRINTS

WIDTH, HEIGHT = 1280, 2000
# A blank 1280x2000 page compresses to about 6 KB; the report's first screen is far larger.
MIN_BYTES = 60_000


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (no imaging library needed)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Chromium is required for this test: apt-get install -y chromium"
    return found


def screenshot(html_file: Path, png: Path, profile: Path) -> None:
    subprocess.run([
        chromium(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--no-first-run", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}", html_file.as_uri(),
    ], check=True, capture_output=True, timeout=120)


def test_report_renders_in_chromium(tmp_path: Path, portal_scan: ScanResult) -> None:
    report = build(BLUEPRINTS / "patient-portal", today=TODAY, result=portal_scan)
    page = tmp_path / "report.html"
    page.write_text(to_html(report), "utf-8")
    png = tmp_path / "report.png"
    screenshot(page, png, tmp_path / "profile")
    data = png.read_bytes()
    assert png_size(data) == (WIDTH, HEIGHT)
    assert len(data) > MIN_BYTES, f"screenshot is {len(data)} bytes: blank page?"


def test_blank_page_is_detected(tmp_path: Path) -> None:
    """The size threshold really separates an empty page from a rendered report."""
    page = tmp_path / "blank.html"
    page.write_text("<!DOCTYPE html><html><body></body></html>", "utf-8")
    png = tmp_path / "blank.png"
    screenshot(page, png, tmp_path / "profile")
    data = png.read_bytes()
    assert png_size(data) == (WIDTH, HEIGHT)
    assert len(data) < MIN_BYTES
