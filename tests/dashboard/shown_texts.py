"""What a page shows, read in the browser, checked against the message catalogue.

`page_texts` collects every text node and the placeholder / aria-label / title / alt of every
element, through Panel's shadow roots, leaving out what is marked as another language
(`lang` attribute: the language switch's other link, technical messages a refresh recorded in
English). `untranslated` removes from each text every fixed part of the catalogue's texts in
the page's language (`dashboard` and `pad` domains, between `{placeholders}`), the data
values the page may show as they are (client ids, model versions, feature labels the catalogue
does not translate — issue 12 translates the 30 most important features only) and numbers;
any word left is a text that did not come from the catalogue in that language.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from i18n.catalogue import read_catalog

COLLECT = """() => {
  const lang = document.documentElement.lang;
  const out = [];
  const foreign = el => { const marked = el.closest('[lang]');
                          return marked && marked.lang !== lang && marked !== document.documentElement; };
  const walk = root => {
    const it = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let n = it.currentNode; n; n = it.nextNode()) {
      if (n.nodeType === Node.TEXT_NODE) {
        const p = n.parentElement;
        if (p && !p.closest('style,script') && !foreign(p) && n.textContent.trim())
          out.push(n.textContent.trim());
      } else if (n.nodeType === Node.ELEMENT_NODE) {
        if (!foreign(n))
          for (const a of ['placeholder', 'aria-label', 'title', 'alt'])
            if (n.getAttribute(a)) out.push(n.getAttribute(a).trim());
        if (n.shadowRoot) walk(n.shadowRoot);
      }
    }
  };
  walk(document.body);
  return out;
}"""
# names and acronyms that are the same in every language
LANGUAGE_FREE = {"Prêt", "dépenser", "Français", "English", "PSI", "AUC", "ROC", "KS", "SHAP",
                 "UTC", "PAD_ADVISOR_TOKENS", "XXXX", "Brier"}
WORD = re.compile(r"[^\W\d_]{3,}")
PLACEHOLDER = re.compile(r"\{\w+\}|</?[a-z][^>]*>")


def page_texts(page: object) -> list[str]:
    return page.evaluate(COLLECT)  # type: ignore[attr-defined]


@cache
def catalogue_fragments(lang: str) -> tuple[str, ...]:
    """The fixed parts of every catalogue text of `lang`, longest first."""
    found: set[str] = set()
    for domain in ("dashboard", "pad"):
        catalog = read_catalog(lang, domain)
        for message in catalog or ():
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for text in strings:
                found.update(part.strip() for part in PLACEHOLDER.split(text or "")
                             if len(part.strip()) >= 2)
    return tuple(sorted(found, key=len, reverse=True))


def _whole(fragment: str) -> str:
    """A regex of `fragment` that does not match inside a longer word."""
    before = r"(?<!\w)" if fragment[0].isalnum() else ""
    after = r"(?!\w)" if fragment[-1].isalnum() else ""
    return before + re.escape(fragment) + after


def untranslated(shown: Iterable[str], lang: str, data: Iterable[str] = ()) -> list[str]:
    """The shown texts that keep words once the catalogue's texts in `lang` and the `data`
    values are taken out (empty: every text came from the catalogue)."""
    removable = sorted(set(catalogue_fragments(lang)) | {d for d in data if d}, key=len,
                       reverse=True)
    # whole words only: a short text ("ok") must not hide part of a longer word
    pattern = re.compile("|".join(_whole(fragment) for fragment in removable))
    left = []
    for text in shown:
        rest = text
        while True:
            shorter = pattern.sub(" ", rest)
            if shorter == rest:
                break
            rest = shorter
        words = [w for w in WORD.findall(rest) if w not in LANGUAGE_FREE]
        if words:
            left.append(f"{text!r} → {' '.join(words)}")
    return left
