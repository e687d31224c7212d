"""Keep the catalogue in step with the code: `python -m i18n.maintain` (or `make translations`).

For each domain with a mapping file (`i18n/<domain>.cfg`): extract the template
`i18n/locale/<domain>.pot` from the code with `pybabel extract`, then `pybabel update` every
language's .po file (new entries come in empty, entries gone from the code are dropped, no
fuzzy guesses: a code's neighbour is not its translation). Then translate the empty msgstr;
tests/i18n/test_catalogue.py fails while one is left. Run from the repository root.
"""
from __future__ import annotations

import sys
from pathlib import Path
from string import Formatter

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface

from i18n.catalogue import DOMAINS, LANGUAGES, LOCALE_DIR, po_path

PACKAGE_DIR = Path(__file__).resolve().parent
# keywords of coded messages: translate(context, key, lang…), Message(context, key…) → msgctxt,
# msgid; the dashboard: Babel's default keywords (tr._, N_…), Texts.html and Texts.nhtml
KEYWORDS = {"pad": ["--no-default-keywords", "-k", "translate:1c,2", "-k", "Message:1c,2"],
            "dashboard": ["-k", "html", "-k", "nhtml:1,2"]}
IGNORED_DIRS = ".* _* data tests flows target logs dbt_packages"


def mapping_file(domain: str) -> Path:
    return PACKAGE_DIR / f"{domain}.cfg"


def extract(domain: str, template: Path, root: Path) -> None:
    """Write the template of `domain` extracted from the code under `root`."""
    _pybabel(["extract", "-F", str(mapping_file(domain)), *KEYWORDS[domain], "--no-location",
              "--sort-output", "--ignore-dirs", IGNORED_DIRS, "--copyright-holder",
              "Prêt à dépenser", "--project", "pret-a-depenser-scoring", "-o", str(template),
              str(root)])


def update(domain: str) -> None:
    """Bring every language's .po of `domain` in step with its template (creating it)."""
    template = LOCALE_DIR / f"{domain}.pot"
    for lang in LANGUAGES:
        command = "update" if po_path(lang, domain).is_file() else "init"
        extra = ["--no-fuzzy-matching", "--ignore-obsolete"] if command == "update" else []
        _pybabel([command, "-D", domain, "-i", str(template), "-d", str(LOCALE_DIR), "-l",
                  lang, "-w", "100", *extra])


def placeholders(text: str) -> set[str]:
    """The `{name}` fields a text fills (str.format)."""
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def missing_translations(template: Catalog, translated: Catalog) -> list[str]:
    """Entries of `template` that `translated` lacks, leaves empty or marks fuzzy
    ('msgctxt|msgid: why')."""
    problems = []
    for message in template:
        if not message.id:
            continue
        name = f"{message.context or ''}|{message.id}"
        entry = translated.get(message.id, context=message.context)
        if entry is None or not entry.string:
            problems.append(f"{name}: no translation")
        elif entry.fuzzy:
            problems.append(f"{name}: fuzzy")
    return problems


def mismatched_placeholders(english: Catalog, other: Catalog) -> list[str]:
    """Entries whose translation fills other `{name}` fields than the English text."""
    problems = []
    for message in english:
        entry = other.get(message.id, context=message.context)
        if message.id and entry is not None and isinstance(entry.string, str) and \
                isinstance(message.string, str) and \
                placeholders(entry.string) != placeholders(message.string):
            problems.append(f"{message.context or ''}|{message.id}: "
                            f"{sorted(placeholders(entry.string))} ≠ "
                            f"{sorted(placeholders(message.string))}")
    return problems


def _pybabel(args: list[str]) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def main() -> int:
    root = PACKAGE_DIR.parent
    for domain in DOMAINS:
        if mapping_file(domain).is_file():
            extract(domain, LOCALE_DIR / f"{domain}.pot", root)
            update(domain)
    return 0


if __name__ == "__main__":
    sys.exit(main())
