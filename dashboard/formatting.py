"""HTML helpers shared by every page: the style sheet, the decision badge, tables, messages,
the guard that turns data errors into messages, and the language switch. Words and number
formats come from `dashboard.texts`."""
from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import panel as pn

from dashboard.lookup import ClientNotFound, InvalidRequest, WarehouseUnavailable
from dashboard.texts import LANGUAGE_NAMES, N_, Texts
from dashboard.theme import DECISION_BADGES, MUTED_TEXT, PANEL_BACKGROUND, TEXT

STYLE = f"""
<style>
  .pad-card {{ background: {PANEL_BACKGROUND}; color: {TEXT}; border-radius: 6px;
              padding: 10px 14px; }}
  .pad-card h3 {{ margin: 0 0 6px 0; font-size: 1.05em; }}
  .pad-card table {{ border-collapse: collapse; width: 100%; }}
  .pad-card th {{ text-align: left; font-weight: normal; color: {MUTED_TEXT};
                 padding: 2px 10px 2px 0; }}
  .pad-card td {{ padding: 2px 0; font-weight: 600; }}
  .pad-muted {{ color: {MUTED_TEXT}; }}
  .pad-badge {{ display: inline-block; padding: 3px 12px; border-radius: 4px;
               font-weight: 700; font-size: 1.1em; }}
  .pad-table {{ border-collapse: collapse; font-size: 0.95em; color: {TEXT}; }}
  .pad-table th, .pad-table td {{ border-bottom: 1px solid #d0d4d9; padding: 3px 10px;
                                 text-align: left; }}
</style>
"""


def badge(decision: str, tr: Texts) -> str:
    """The decision in a coloured badge with its word (`data-testid='decision'`)."""
    fg, bg = DECISION_BADGES.get(decision, (TEXT, PANEL_BACKGROUND))
    symbol = "✓" if decision == "grant" else "✗"
    word = tr.decision(decision)
    return (f"<span class='pad-badge' data-testid='decision' style='color:{fg};"
            f"background:{bg}'>{symbol} {html.escape(word)}</span>")


def html_table(frame: pd.DataFrame, testid: str) -> pn.pane.HTML:
    head = "".join(f"<th scope='col'>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return pn.pane.HTML(STYLE + f"<table class='pad-table' data-testid='{testid}'><thead><tr>"
                        f"{head}</tr></thead><tbody>{body}</tbody></table>",
                        sizing_mode="stretch_width")


def heading(title: str, intro: str = "") -> pn.pane.HTML:
    """A section title (h3) and its optional introduction, both plain text."""
    text = f"<h3>{html.escape(title)}</h3>" + (f"<p>{html.escape(intro)}</p>" if intro else "")
    return pn.pane.HTML(f"<div style='color:{TEXT}'>{text}</div>", sizing_mode="stretch_width")


def message(text: str, kind: str = "info") -> pn.pane.Alert:
    # Panel's own alert text colours miss WCAG AA on their backgrounds (3.9:1 and 4.3:1)
    return pn.pane.Alert(text, alert_type=kind, sizing_mode="stretch_width",
                         stylesheets=[f":host(.alert.alert-{kind}) {{ color: {TEXT}; }}"])


def guarded(render: Callable[[], pn.viewable.Viewable], tr: Texts,
            client_id: int | None = None) -> pn.viewable.Viewable:
    """Run a page render, turning data errors into messages an advisor understands (the
    lower layers' technical detail stays in the server's log, in English)."""
    try:
        return render()
    except WarehouseUnavailable:
        return message(tr._("The published data cannot be read yet. Reload this page once a "
                            "refresh has published it."), "warning")
    except ClientNotFound:
        return message(tr._("Client {client} not found. Check the id, or search by its first "
                            "digits.", client=client_id if client_id is not None else "—"),
                       "warning")
    except InvalidRequest:
        return message(tr._("That request cannot be answered."), "warning")


def language_switch_html(tr: Texts, query: dict[str, str]) -> str:
    """Links to the same page in every language (the query kept, `lang` changed)."""
    links = []
    for lang, name in LANGUAGE_NAMES.items():
        if lang == tr.lang:
            links.append(f"<b aria-current='true' lang='{lang}'>{html.escape(name)}</b>")
        else:
            href = "?" + urlencode({**{k: v for k, v in query.items() if v}, "lang": lang})
            links.append(f"<a href='{html.escape(href)}' hreflang='{lang}' lang='{lang}' "
                         f"data-testid='lang-{lang}'>{html.escape(name)}</a>")
    return (f"<nav data-testid='language-switch' aria-label='{html.escape(tr._('Language'))}' "
            f"style='text-align:right;color:{TEXT}'>{' · '.join(links)}</nav>")


def chart_pane(plot: Any, **params: Any) -> pn.pane.HoloViews:
    # unlinked: Panel would otherwise share ranges between charts whose axes have the same
    # dimension name (the gauge's score axis would follow the waterfall's)
    return pn.pane.HoloViews(plot, linked_axes=False, **params)


def as_frame(records: Iterable[Any]) -> pd.DataFrame:
    return pd.DataFrame([r.model_dump() for r in records])


# texts written inside f-strings, which pybabel does not read: marked here for extraction
IN_F_STRINGS = (N_("Language"),)
