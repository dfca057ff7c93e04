"""The console's message catalogues: every language has every sentence, each with the same {places}; Russian
plurals have Russian's forms; and no console page or script holds a sentence of its own.

The scan reads every file the console is made of (``static/``), so a string added tomorrow in Russian to a
script or a page fails here: it belongs in ``messages.<locale>.js`` under a key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from priyom_tickets.api.console import ASSETS, STATIC

CATALOGUES = {path.name.split(".")[1]: path for path in sorted(STATIC.glob("messages.*.js"))}
#: Cyrillic letters: what the console wrote before it had catalogues, and what a hard-coded string would be.
CYRILLIC = re.compile(r"[\u0400-\u04FF]+")
PLACE = re.compile(r"\{(\w+)\}")
#: Keys a page or a script names: t("key"), sayMarked(node, "key"), and data-i18n / data-i18n-<attribute>="key".
USED = (re.compile(r"(?<![\w.])t\(\"([a-z][\w.]*)\""), re.compile(r"sayMarked\([^,]+\), \"([a-z][\w.]*)\""),
        re.compile(r"data-i18n(?:-[a-z-]+)?=\"([^\"]+)\""))


def catalogue(path: Path) -> dict[str, str | dict[str, str]]:
    """A catalogue as the browser reads it: the JSON object in ``registerCatalogue("<locale>", {...});``."""
    text = path.read_text(encoding="utf-8")
    assert re.search(rf'registerCatalogue\("{path.name.split(".")[1]}", \{{', text), path.name
    return json.loads(text[text.index("{"):text.rindex("}") + 1])


def places(message: str | dict[str, str]) -> set[str]:
    forms = message.values() if isinstance(message, dict) else [message]
    return {name for form in forms for name in PLACE.findall(form)}


def console_sources() -> list[Path]:
    """Every page, script and style sheet of the console but the catalogues themselves."""
    files = [p for p in sorted(STATIC.iterdir()) if p.is_file() and not p.name.startswith("messages.")]
    assert {"console.html", "console.js", "dashboard.html", "dashboard.js", "i18n.js"} <= {p.name for p in files}
    return files


def test_the_console_speaks_russian_and_english_and_serves_both() -> None:
    assert set(CATALOGUES) == {"ru", "en"}
    assert {f"messages.{locale}.js" for locale in CATALOGUES} <= set(ASSETS)
    for page in ("console.html", "dashboard.html", "dead_letters.html"):
        html = (STATIC / page).read_text(encoding="utf-8")
        assert html.index("/console/i18n.js") < html.index("/console/messages.ru.js") < html.index(
            "/console/messages.en.js"), page


def test_every_catalogue_has_the_same_keys_with_the_same_places() -> None:
    read = {locale: catalogue(path) for locale, path in CATALOGUES.items()}
    keys = {locale: set(messages) for locale, messages in read.items()}
    assert keys["ru"] == keys["en"], {
        "only in ru": sorted(keys["ru"] - keys["en"]), "only in en": sorted(keys["en"] - keys["ru"])}
    assert len(keys["ru"]) > 300  # the whole console, not a sample
    for key in keys["ru"]:
        assert places(read["ru"][key]) == places(read["en"][key]), key
        assert all(form.strip() for form in (read["ru"][key].values() if isinstance(read["ru"][key], dict)
                                             else [read["ru"][key]])), key


def test_plural_sentences_have_each_languages_forms() -> None:
    ru, en = catalogue(CATALOGUES["ru"]), catalogue(CATALOGUES["en"])
    plural = [key for key, message in ru.items() if isinstance(message, dict)]
    assert plural, "the queue's total at least is a plural sentence"
    for key in plural:
        # Intl.PluralRules("ru"): one (1, 21), few (2-4, 22), many (5, 11, 25), other (fractions).
        assert set(ru[key]) == {"one", "few", "many", "other"}, key
        assert isinstance(en[key], dict) and set(en[key]) == {"one", "other"}, key
        assert all("{count}" in form for form in [*ru[key].values(), *en[key].values()]), key
    total = ru["queue.total"]
    assert total["one"].endswith("обращение") and total["few"].endswith("обращения") and total["many"].endswith(
        "обращений")


def test_every_key_a_page_or_script_names_is_in_the_catalogue() -> None:
    known = set(catalogue(CATALOGUES["ru"]))
    named: dict[str, str] = {}
    for path in console_sources():
        text = path.read_text(encoding="utf-8")
        for pattern in USED:
            named.update({key: path.name for key in pattern.findall(text)})
    named.pop("key", None)  # i18n.js's own comment: t("key", vars)
    assert len(named) > 200
    assert {key: page for key, page in named.items() if key not in known} == {}


@pytest.mark.parametrize("path", console_sources(), ids=lambda p: p.name)
def test_no_console_page_or_script_holds_a_russian_sentence(path: Path) -> None:
    found = [(number, line.strip()) for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if CYRILLIC.search(line)]
    assert found == [], f"{path.name}: put these in messages.ru.js / messages.en.js and call t(key)"


def test_the_scan_catches_a_sentence_written_in_code(tmp_path: Path) -> None:
    """The check above is a real one: a Russian sentence in a script is found, a key is not."""
    script = tmp_path / "example.js"
    script.write_text('say("reply-status", "Ответ отправлен");\nsay("reply-status", t("reply.sent"));\n',
                      encoding="utf-8")
    lines = script.read_text(encoding="utf-8").splitlines()
    assert [number for number, line in enumerate(lines, 1) if CYRILLIC.search(line)] == [1]
