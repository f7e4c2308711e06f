"""#20 docs/portal-tour.md: every screenshot in docs/screenshots is linked from the tour, every
link names a file there, and the set stays small (at most 25 files of at most 100 KB)."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_tour_links_each_screenshot_and_they_stay_small() -> None:
    linked = re.findall(
        r"\]\((screenshots/[^)]+\.png)\)", (DOCS / "portal-tour.md").read_text(encoding="utf-8")
    )
    files = sorted(path.relative_to(DOCS).as_posix() for path in (DOCS / "screenshots").glob("*.png"))
    assert sorted(linked) == files
    assert len(files) <= 25
    assert [name for name in files if (DOCS / name).stat().st_size > 100_000] == []
