"""End to end in headless Chromium: ``edossier serve`` on a fresh data directory, driven with Playwright.

Logs in with a token from ``edossier tokens create --role archivist --json``, opens the overview,
the sample dossier, an audit run down to one result's evidence and the 台账 (downloading the Excel
file), then logs out. Screenshots of the overview and the dossier page go to the test's
``tmp_path`` and are copied to ``/tmp/ui-shots/``. Skipped only when Chromium or Playwright is not
installed, and never under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.s3 import free_port

pytestmark = pytest.mark.slow
EXE = Path(sys.executable).parent / "edossier"
SHOTS = Path("/tmp/ui-shots")


def _browser_or_skip() -> tuple[Any, str]:
    """Playwright's ``sync_playwright`` and the Chromium executable; skip (fail under CI=true) without them."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright, missing = None, "the playwright package is not installed (pip install playwright)"
    else:
        missing = "" if chromium else "chromium is not installed (apt-get install -y chromium)"
    if sync_playwright is None or chromium is None:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"{missing} (CI=true: the browser test must run)", pytrace=False)
        pytest.skip(missing)
    return sync_playwright, chromium


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDOSSIER_")}
    return env | {"EDOSSIER_DATA_DIR": str(data_dir)}


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.HTTPError):
        return False


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``edossier serve`` on a free port and a fresh data directory (it archives a sample on first start)."""
    data_dir = tmp_path / "data"
    port = free_port()
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [str(EXE), "serve", "--port", str(port), "--no-scheduler"],
        env=_env(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not _ready(f"{base}/api/v1/ready"):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "serve did not become ready"
            time.sleep(0.3)
        yield base, data_dir
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EXE), *args], env=_env(data_dir), capture_output=True, text=True, check=False)


def _shoot(page: Any, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    page.screenshot(path=str(target), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target, SHOTS / name)
    return target


def test_archivist_walks_the_dashboard_in_chromium(server: tuple[str, Path], tmp_path: Path) -> None:
    sync_playwright, chromium = _browser_or_skip()
    base, data_dir = server
    created = _cli(
        data_dir, "tokens", "create", "--role", "archivist", "--name", "档案管理员（浏览器测试）", "--json"
    )
    assert created.returncode == 0, created.stderr
    token = json.loads(created.stdout)["token"]
    audited = _cli(data_dir, "audit", "run", "--json")
    assert audited.returncode == 0, audited.stdout + audited.stderr
    run_id = json.loads(audited.stdout)["run_id"]

    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))

            # log in: the overview redirects to the form, the form back to the overview
            page.goto(f"{base}/ui")
            assert page.url.startswith(f"{base}/ui/login?next=")
            page.fill("#token", token)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/ui")
            [cookie] = [c for c in context.cookies() if c["name"] == "edossier_ui"]
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/ui"
            assert page.inner_text("#dossier-count") == "1"
            assert "通过" in page.inner_text("main")  # the audit just run
            overview = _shoot(page, tmp_path, "overview.png")

            # the sample dossier: both volumes, the server-verified inclusion proof, the GD report
            page.click("header nav >> text=卷宗")
            page.wait_for_url(f"{base}/ui/dossiers")
            page.click("#dossier-list a >> nth=0")
            page.wait_for_selector("#proof-status")
            assert page.inner_text("#proof-status") == "已验证"
            assert page.is_visible("#volume-正卷") and page.is_visible("#volume-副卷")
            assert page.is_visible("#report-GD")
            dossier = _shoot(page, tmp_path, "dossier.png")

            # audits: the run, then one result's evidence
            page.click("header nav >> text=审计")
            page.click(f"a[href='/ui/audits/{run_id}']")
            assert page.inner_text("#run-status") == "通过"
            page.click("#results a >> nth=0")
            page.wait_for_selector("#evidence")
            assert "sha256" in page.inner_text("#evidence")

            # 台账: the chart and the Excel download
            page.click("header nav >> text=台账")
            page.wait_for_selector("#register-chart")
            assert page.locator("#register-chart rect").count() == 6 * 3  # six months, three series
            with page.expect_download() as download:
                page.click("#download-xlsx")
            assert Path(download.value.path()).read_bytes()[:2] == b"PK"
            _shoot(page, tmp_path, "register.png")

            # log out: the cookie is gone and the dashboard asks for a login again
            page.click("header button >> text=退出")
            page.wait_for_url(f"{base}/ui/login")
            assert not [c for c in context.cookies() if c["name"] == "edossier_ui"]
            page.goto(f"{base}/ui/audits")
            assert page.url.startswith(f"{base}/ui/login?next=")
        finally:
            browser.close()

    assert problems == []  # no script errors and no Content-Security-Policy violations
    assert overview.stat().st_size > 10_000 and dossier.stat().st_size > 10_000
