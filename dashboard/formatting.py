"""Formatting and HTML helpers shared by every page: values in words an advisor can read out,
the decision badge, tables, messages, and the guard that turns data errors into messages."""
from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
import panel as pn

from dashboard.lookup import ClientNotFound, InvalidRequest, WarehouseUnavailable
from dashboard.theme import DECISION_BADGES, DECISION_WORDS, MUTED_TEXT, PANEL_BACKGROUND, TEXT

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



def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def fmt_text(value: Any) -> str:
    return "unknown" if is_missing(value) or value == "XNA" else str(value)


def fmt_int(value: Any) -> str:
    return "unknown" if is_missing(value) else f"{int(value):,}"


def fmt_money(value: Any) -> str:
    return "unknown" if is_missing(value) else f"{float(value):,.0f}"


def fmt_bool(value: Any) -> str:
    return "unknown" if is_missing(value) else ("yes" if value else "no")


def fmt_score01(value: Any) -> str:
    return "not available" if is_missing(value) else f"{float(value):.2f}"


def fmt_years_employed(value: Any) -> str:
    return "not employed" if is_missing(value) else f"{float(value):.1f} years"


def fmt_number(value: Any) -> str:
    if is_missing(value):
        return "missing"
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.3g}"


def badge(decision: str) -> str:
    fg, bg = DECISION_BADGES.get(decision, (TEXT, PANEL_BACKGROUND))
    symbol = "✓" if decision == "grant" else "✗"
    word = DECISION_WORDS.get(decision, decision)
    return (f"<span class='pad-badge' data-testid='decision' style='color:{fg};"
            f"background:{bg}'>{symbol} {html.escape(word)}</span>")



def html_table(frame: pd.DataFrame, testid: str) -> pn.pane.HTML:
    head = "".join(f"<th scope='col'>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return pn.pane.HTML(STYLE + f"<table class='pad-table' data-testid='{testid}'><thead><tr>"
                        f"{head}</tr></thead><tbody>{body}</tbody></table>",
                        sizing_mode="stretch_width")


def message(text: str, kind: str = "info") -> pn.pane.Alert:
    # Panel's own alert text colours miss WCAG AA on their backgrounds (3.9:1 and 4.3:1)
    return pn.pane.Alert(text, alert_type=kind, sizing_mode="stretch_width",
                         stylesheets=[f":host(.alert.alert-{kind}) {{ color: {TEXT}; }}"])


def guarded(render: Callable[[], pn.viewable.Viewable]) -> pn.viewable.Viewable:
    """Run a page render, turning data errors into messages an advisor understands."""
    try:
        return render()
    except WarehouseUnavailable as exc:
        return message(f"The warehouse is not available: {exc}", "warning")
    except ClientNotFound as exc:
        return message(f"{exc}. Check the id, or search by its first digits.", "warning")
    except InvalidRequest as exc:
        return message(f"That request cannot be answered: {exc}", "warning")


def chart_pane(plot: Any, **params: Any) -> pn.pane.HoloViews:
    # unlinked: Panel would otherwise share ranges between charts whose axes have the same
    # dimension name (the gauge's score axis would follow the waterfall's)
    return pn.pane.HoloViews(plot, linked_axes=False, **params)


def as_frame(records: Iterable[Any]) -> pd.DataFrame:
    return pd.DataFrame([r.model_dump() for r in records])


