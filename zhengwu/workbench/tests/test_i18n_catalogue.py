"""The English catalogue is complete and compiled: every string the code marks for translation has
English (no exceptions, no ceiling), placeholders survive translation, and the committed django.mo is
exactly the compiled .po.

To fix a failure: run `bin/i18n`, translate the strings it lists in
zhengwu/locale/en/LC_MESSAGES/django.po, then run `bin/i18n --compile`.
"""

from __future__ import annotations

import gettext
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[3]
PO = ROOT / "zhengwu" / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
IGNORE = [".venv", "var", "node_modules", "bench", "docs", "build", "dist", "zhengwu/locale"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sdifr]|%[sdifr]|\{\w*\}")


def _key(entry: polib.POEntry) -> tuple[str, str]:
    return (entry.msgctxt or "", entry.msgid)


@pytest.fixture(scope="module")
def found_in_code(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], polib.POEntry]:
    """Every msgid makemessages finds in the code, collected into a scratch locale directory."""
    if not shutil.which("xgettext"):
        pytest.fail("gettext is not installed: run bin/system-packages")
    scratch = tmp_path_factory.mktemp("locale")
    with pytest.MonkeyPatch.context() as mp, override_settings(LOCALE_PATHS=[str(scratch)]):
        mp.chdir(ROOT)
        call_command("makemessages", locale=["en"], ignore_patterns=IGNORE, verbosity=0)
    fresh = polib.pofile(str(scratch / "en" / "LC_MESSAGES" / "django.po"))
    assert len(fresh) > 100, "makemessages found almost nothing: is it running from the project root?"
    return {_key(e): e for e in fresh}


def test_it_has_english_for_every_string_in_the_code(found_in_code: dict) -> None:
    catalogue = {_key(e): e for e in polib.pofile(str(PO)) if not e.obsolete}
    missing = []
    for key, entry in found_in_code.items():
        ours = catalogue.get(key)
        if ours is None or not ours.translated() or "fuzzy" in ours.flags:
            where = entry.occurrences[0][0] if entry.occurrences else "?"
            missing.append(f"{entry.msgid!r} ({where})")
    # Every string must have English: a page switched to English shows no Chinese left over.
    assert not missing, (
        f"{len(missing)} string(s) without English — run bin/i18n and translate them in {PO.name}:\n  "
        + "\n  ".join(sorted(missing)[:60])
    )


def test_it_keeps_every_placeholder_in_the_english() -> None:
    wrong = []
    for e in polib.pofile(str(PO)):
        if e.obsolete or not e.translated():
            continue
        wanted = sorted(PLACEHOLDER.findall(e.msgid))
        got = [e.msgstr] if not e.msgid_plural else list(e.msgstr_plural.values())
        for text in got:
            if sorted(PLACEHOLDER.findall(text)) != wanted:
                wrong.append(f"{e.msgid!r} → {text!r}")
    assert not wrong, "placeholders differ:\n  " + "\n  ".join(wrong)


def test_it_commits_the_mo_compiled_from_the_po(tmp_path: Path) -> None:
    compiled = tmp_path / "django.mo"
    polib.pofile(str(PO)).save_as_mofile(str(compiled))
    assert MO.exists(), "django.mo is missing: run bin/i18n --compile"
    assert MO.read_bytes() == compiled.read_bytes(), "django.mo is stale: run bin/i18n --compile"
    # And gettext reads it: the plural rule and a string every page shows.
    with MO.open("rb") as fh:
        catalogue = gettext.GNUTranslations(fh)
    assert catalogue.gettext("统一电子政务平台") == "Unified E-Government Platform"
    assert catalogue.info()["plural-forms"] == "nplurals=2; plural=(n != 1);"
