"""The README's picture of the report's first screen, made from the shipped sample so that it
stays current: `make screenshot` (poolkit report, then headless Chromium at 1280x800).

Needs Debian's chromium (`apt-get install chromium`) and the test extras (playwright).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from poolkit.report import build_report
from poolkit.sample import sample_path

OUT = Path(__file__).resolve().parents[1] / "docs" / "images" / "report-first-screen.png"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("screenshot: Debian's chromium is not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as work:
        page_file = Path(work) / "report.html"
        build_report(sample_path(), page_file)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(page_file.as_uri(), wait_until="load")
                OUT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(OUT))
            finally:
                browser.close()
    print(f"screenshot: {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
