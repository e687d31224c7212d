"""The client page's two charts as plain HTML: the score gauge and the contributions waterfall.

They change at every client switch. As HoloViews/Bokeh figures, the waterfall alone took three
quarters of a switch on the server (re-planning the plot) and a new figure per browser session
made the first client of a session three times slower than the next ones. As HTML they cost a
string on the server and a paint in the browser, and they carry their own text: a screen reader
reads the waterfall as a table (feature, points), the bars are decoration. No data access, no
Panel: functions of DataFrames and numbers, tested like `dashboard.plots`.
"""
from __future__ import annotations

import html
import math

import pandas as pd

from dashboard.plots import band_limits
from dashboard.texts import ENGLISH, N_, Texts
from dashboard.theme import (
    BAND_COLOURS,
    GREY,
    LOWERS_SCORE,
    MUTED_TEXT,
    RAISES_SCORE,
    TEXT,
    readable_text,
)

ROW_HEIGHT_PX = 26


def gauge_html(score: int, cutoff: float, bands: pd.DataFrame, tr: Texts = ENGLISH) -> str:
    """Horizontal gauge: the risk bands (letters), the refusal cutoff and the client's score."""
    limits = band_limits(bands)
    low = min(float(limits["low"].min()), score - 15)
    high = max(float(limits["high"].max()), score + 15)
    limits.loc[limits.index[0], "low"] = low
    limits.loc[limits.index[-1], "high"] = high

    def at(value: float) -> float:
        return max(0.0, min(100.0, (value - low) / (high - low) * 100))

    segments = "".join(
        f"<div style='flex:0 0 {at(r.high) - at(r.low):.3f}%;background:{colour};"
        f"color:{readable_text(colour)};text-align:center;line-height:30px;font-weight:600;"
        f"overflow:hidden;white-space:nowrap'>"
        f"{html.escape(tr._('Band {band}', band=str(r.risk_band)))}</div>"
        for r in limits.itertuples()
        for colour in [BAND_COLOURS.get(str(r.risk_band), GREY)])
    boundary = at(cutoff + 0.5)
    where = at(score)
    distance = round(score - round(cutoff))
    side = (tr.ngettext("{points} point above the cutoff", "{points} points above the cutoff",
                        distance, points=tr.number(distance)) if distance > 0
            else tr.ngettext("{points} point below the grant zone",
                             "{points} points below the grant zone", 1 - distance,
                             points=tr.number(1 - distance)))
    dashed = tr._("dashed line: refused at {cutoff} points or less", cutoff=tr.number(cutoff))
    label = tr._("Score {score} on a scale from {low} to {high}; refused at {cutoff} points or "
                 "less; {side}", score=tr.number(score), low=tr.number(low), high=tr.number(high),
                 cutoff=tr.number(cutoff), side=side)
    return (
        f"<div data-testid='gauge' role='img' style='color:{TEXT};padding:28px 8px 4px 8px' "
        f"aria-label='{html.escape(label)}'>"
        f"<div style='position:relative'>"
        f"<div style='position:absolute;left:{where:.3f}%;top:-28px;transform:translateX(-50%);"
        f"font-weight:700;white-space:nowrap'>▼ {score}</div>"
        f"<div style='display:flex;height:30px;border-radius:4px;overflow:hidden'>{segments}</div>"
        f"<div style='position:absolute;left:{boundary:.3f}%;top:-6px;height:42px;"
        f"border-left:3px dashed {TEXT}'></div>"
        f"<div style='position:absolute;left:{where:.3f}%;top:-4px;height:38px;"
        f"border-left:3px solid {TEXT}'></div></div>"
        f"<div style='display:flex;justify-content:space-between;font-size:0.9em;"
        f"color:{MUTED_TEXT};margin-top:6px'><span>"
        f"{html.escape(tr._('{points} (riskier)', points=tr.number(low)))}</span><span>"
        f"{html.escape(dashed)} · {html.escape(side)}</span><span>"
        f"{html.escape(tr._('{points} (safer)', points=tr.number(high)))}</span></div></div>")


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 × 10ⁿ) inside [low, high]."""
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) // step) + 1)]


def waterfall_html(steps: pd.DataFrame, base: float, score: float,
                   tr: Texts = ENGLISH) -> str:
    """Waterfall in points from the average client (`base`) to this client's `score`.

    One table row per step (`steps`: label, points, e.g. from `plots.waterfall_steps`): the
    label, a bar from the running total before the step to the one after it (to the right,
    blue: raises the score; to the left, vermillion: lowers it) and the signed points. Dashed
    lines mark the average client's score (grey) and this client's (dark) across every row.
    """
    totals = [base]
    for points in steps["points"].astype(float):
        totals.append(totals[-1] + points)
    pad = max(8.0, (max(totals + [score]) - min(totals + [score])) * 0.08)
    low, high = min(totals + [score]) - pad, max(totals + [score]) + pad

    def at(value: float) -> float:
        return (value - low) / (high - low) * 100

    guides = (f"<div aria-hidden='true' style='position:absolute;top:0;bottom:0;"
              f"left:{at(base):.3f}%;border-left:2px dashed {GREY}'></div>"
              f"<div aria-hidden='true' style='position:absolute;top:0;bottom:0;"
              f"left:{at(score):.3f}%;border-left:2px dashed {TEXT}'></div>")

    def row(label: str, bar: str, value: str, strong: bool = False) -> str:
        weight = "font-weight:700;" if strong else ""
        return (f"<tr style='height:{ROW_HEIGHT_PX}px'>"
                f"<th scope='row' style='text-align:left;font-weight:normal;{weight}"
                f"padding:0 10px 0 0;max-width:22em;overflow:hidden;text-overflow:ellipsis;"
                f"white-space:nowrap' title='{html.escape(label)}'>{html.escape(label)}</th>"
                f"<td style='position:relative;padding:0;min-width:200px;width:100%'>{guides}"
                f"{bar}</td><td style='text-align:right;padding:0 0 0 10px;white-space:nowrap;"
                f"{weight}'>{value}</td></tr>")

    def in_points(value: float) -> str:
        return tr.in_points(value, tr.number(value))

    rows = [row(tr._("Average client"), "", in_points(base), strong=True)]
    for (label, points), start, end in zip(steps[["label", "points"]].itertuples(index=False),
                                          totals[:-1], totals[1:], strict=True):
        left, right = sorted((start, end))
        colour = RAISES_SCORE if points >= 0 else LOWERS_SCORE
        bar = (f"<div aria-hidden='true' style='position:absolute;top:5px;bottom:5px;"
               f"left:{at(left):.3f}%;width:{max(at(right) - at(left), 0.3):.3f}%;"
               f"background:{colour};border-radius:2px'></div>")
        rows.append(row(str(label), bar, ("+" if points >= 0 else "") + tr.number(points, 1)))
    rows.append(row(tr._("This client"), "", in_points(score), strong=True))
    ticks = "".join(f"<span style='position:absolute;left:{at(t):.3f}%;"
                    f"transform:translateX(-50%)'>{tr.number(t)}</span>"
                    for t in nice_ticks(low, high))
    axis = (f"<tr aria-hidden='true'><td></td><td style='position:relative;height:1.4em;"
            f"padding:0;color:{MUTED_TEXT};font-size:0.85em;border-top:1px solid {GREY}'>"
            f"{ticks}</td><td style='padding:0 0 0 10px;color:{MUTED_TEXT};font-size:0.85em'>"
            f"{html.escape(tr._('score points'))}</td></tr>")
    caption = tr._("From the average client's {base} points to this client's {score}: each "
                   "feature's points (dashed lines: the two scores)", base=tr.number(base),
                   score=tr.number(score))
    return (f"<table data-testid='waterfall' style='width:100%;border-collapse:collapse;"
            f"color:{TEXT}'><caption style='text-align:left;color:{MUTED_TEXT};"
            f"padding-bottom:4px'>{html.escape(caption)}</caption><thead><tr><th scope='col' "
            f"style='text-align:left'>{html.escape(tr._('Feature'))}</th>"
            f"<th scope='col' style='text-align:left;font-weight:normal;color:{MUTED_TEXT}'>"
            f"{html.escape(tr._('← lowers the score · raises it →'))}</th><th scope='col' "
            f"style='text-align:right'>{html.escape(tr._('Points'))}</th></tr></thead>"
            f"<tbody>{''.join(rows)}{axis}</tbody></table>")


# texts written inside f-strings, which pybabel does not read: marked here for extraction
IN_F_STRINGS = (N_("Band {band}"), N_("{points} (riskier)"), N_("{points} (safer)"),
                N_("score points"), N_("Feature"), N_("← lowers the score · raises it →"),
                N_("Points"))
