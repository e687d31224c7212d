"""The monitoring alerts in the reader's language, for the alerts banner.

A refresh records each alert with a `message` (one line of English, for the log and the
webhook) and `details` (the figures behind it, JSON; models_ml/monitoring/step.py). Drift,
fairness and back-test alerts are worded here from their details, through the catalogue, so
the banner speaks the page's language; every other alert (a failed refresh, a broken decision
chain…) carries an error text with no figures, shown as recorded and marked as English. So is
any alert whose details are missing or not as expected (records older than the details).
"""
from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from dashboard.texts import N_, Texts

Row = Mapping[str, Any]
# as many drift flags as the refresh's own message names
TOP_DRIFT_FLAGS = 5
FOUR_FIFTHS = 0.8
DRIFT_REFERENCES = {"training": N_("training"), "previous_refresh": N_("previous refresh")}
# codes of the fairness report (attributes, flags, a missing group) in words
MONITORING_WORDS = {"ok": N_("ok"), "small_group": N_("small group"),
                    "four_fifths": N_("below four fifths"), "fail": N_("fail"),
                    "gender": N_("gender"), "age": N_("age"), "family": N_("family"),
                    "XNA": N_("not given")}


class MalformedDetails(ValueError):
    """An alert's details lack a figure its sentence needs."""


def technical(text: str, tr: Texts) -> str:
    """A message a refresh recorded (English, technical), marked as English on other pages."""
    return html.escape(text) if tr.lang == "en" else f"<span lang='en'>{html.escape(text)}</span>"


def monitoring_word(code: str, tr: Texts) -> str:
    """A code of the monitoring tables (an attribute, a group, a flag) as the tables show it."""
    if code in MONITORING_WORDS:
        return tr._(MONITORING_WORDS[code])
    # one-letter codes (risk bands) are the same in every language
    return tr.value(code) if len(code) > 1 else code


def alert_html(kind: str, message: str, details: Any, tr: Texts) -> str:
    """The alert's sentence as HTML: from its details in `tr`'s language when its kind has
    a wording and the details hold its figures, else the recorded message."""
    wording = WORDINGS.get(kind)
    if wording is not None:
        try:
            return html.escape(wording(_parsed(details), tr))
        except MalformedDetails:
            pass
    return technical(message, tr)


def drift_sentence(details: Row, tr: Texts) -> str:
    flags = _rows(details, "flags")
    act = [f for f in flags if _text(f, "flag") == "act"]
    named = sorted(act or flags, key=lambda f: _number(f, "psi"), reverse=True)[:TOP_DRIFT_FLAGS]
    largest = ", ".join(
        tr._("{feature} {psi} ({reference})", feature=_text(f, "feature_name"),
             psi=tr.number(_number(f, "psi"), 2), reference=_reference(_text(f, "reference"), tr))
        for f in named)
    watch = len(flags) - len(act)
    return tr.ngettext(
        "population drift: {act} and {watch}; largest PSI: {largest}",
        "population drift: {act} and {watch}; largest PSI: {largest}", len(named),
        act=tr.ngettext("{count} flag to act on", "{count} flags to act on", len(act),
                        count=tr.number(len(act))),
        watch=tr.ngettext("{count} flag to watch", "{count} flags to watch", watch,
                          count=tr.number(watch)),
        largest=largest)


def fairness_sentence(details: Row, tr: Texts) -> str:
    groups = ", ".join(
        tr._("{attribute}: {group} ({ratio})",
             attribute=monitoring_word(_text(g, "attribute"), tr),
             group=monitoring_word(_text(g, "group"), tr),
             ratio=tr.number(_number(g, "grant_rate_ratio"), 2))
        for g in _rows(details, "groups"))
    return tr._("four-fifths rule: grant rate below {share} of the best group for {groups}",
                share=tr.percent(FOUR_FIFTHS, 0), groups=groups)


def backtest_sentence(details: Row, tr: Texts) -> str:
    bands = ", ".join(_band(b, tr) for b in _rows(details, "bands"))
    return tr._("back-test failed (risk under-estimated): {bands}", bands=bands)


def _band(band: Row, tr: Texts) -> str:
    clients = _number(band, "clients")
    if not clients.is_integer():
        raise MalformedDetails("clients is not a count")
    return tr.ngettext(
        "band {band} (predicted {predicted}, observed {observed} of {clients} client, "
        "p = {p})",
        "band {band} (predicted {predicted}, observed {observed} of {clients} clients, "
        "p = {p})", int(clients),
        band=_text(band, "risk_band"), predicted=tr.percent(_number(band, "predicted_rate")),
        observed=tr.percent(_number(band, "observed_rate")), clients=tr.number(clients),
        p=tr.number(_number(band, "jeffreys_p"), 3))


def _reference(code: str, tr: Texts) -> str:
    return tr._(DRIFT_REFERENCES[code]) if code in DRIFT_REFERENCES else code


def _parsed(details: Any) -> Row:
    """The details as recorded: a JSON text (DuckDB's json column) or already a mapping."""
    if isinstance(details, str):
        try:
            details = json.loads(details)
        except ValueError as exc:
            raise MalformedDetails("details are not JSON") from exc
    if not isinstance(details, Mapping):
        raise MalformedDetails("no details")
    return details


def _rows(details: Row, key: str) -> list[Row]:
    rows = details.get(key)
    if not isinstance(rows, list) or not rows or \
            not all(isinstance(r, Mapping) for r in rows):
        raise MalformedDetails(f"no {key} in the details")
    return rows


def _number(row: Row, key: str) -> float:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not math.isfinite(value):
        raise MalformedDetails(f"{key} is not a number")
    return float(value)


def _text(row: Row, key: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedDetails(f"{key} is not a text")
    return value


WORDINGS: dict[str, Callable[[Row, Texts], str]] = {
    "drift": drift_sentence, "fairness": fairness_sentence, "backtest": backtest_sentence}
