"""A Babel extraction method for coded messages (see i18n/pad.cfg).

Reason codes, family codes, levers and feature names are data, not literals in a call, so
`pybabel extract` cannot see them in the source. A `[codes: path]` section of the mapping file
names a function `registry = package.module:function` returning (context, key) pairs; this
extractor yields the file's ordinary `translate(...)` calls (Babel's Python extractor) and then
every pair of the registry, so `pybabel update` adds a new code to each .po file.

The registry is imported by name from the mapping file, so this module imports no package above
it.
"""
from __future__ import annotations

import importlib
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from babel.messages.extract import extract_python

CODED_KEYWORD = "translate"


def extract_codes(fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str],
                  options: dict[str, Any]) -> Iterator[tuple[int, str, Any, list[str]]]:
    yield from extract_python(fileobj, keywords, comment_tags, options)
    module_name, _, function_name = options["registry"].partition(":")
    registry = getattr(importlib.import_module(module_name), function_name)
    for context, key in registry():
        yield 0, CODED_KEYWORD, (context, key), []
