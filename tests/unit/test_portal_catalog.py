"""The portal's Chinese catalog translates every message the pages and views use: a string
added to a template or view without a translation fails here, before a clerk sees English."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

PORTAL = Path(__file__).resolve().parents[2] / "web" / "portal"
CATALOG = PORTAL / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def used_messages() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "N_": None}
    found = extract_from_dir(str(PORTAL), method_map=method_map, keywords=keywords)
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def test_every_message_of_the_portal_has_a_chinese_translation() -> None:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(used_messages() - translated)
    assert not missing, f"untranslated in {CATALOG.name}: {missing}"
    assert "Issue a ticket" in translated and catalog.get("Issue a ticket").string == "开立金票"


def test_the_catalog_is_compiled_for_flask_babel() -> None:
    compiled = CATALOG.with_suffix(".mo")
    assert compiled.exists(), "the Chinese catalog is not compiled: run `make install` (tools/venv.sh)"
    assert compiled.stat().st_mtime >= CATALOG.stat().st_mtime, "messages.po changed: run `make install`"
