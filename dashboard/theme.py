"""Colours of the dashboard: colour-blind-safe (Okabe–Ito) and WCAG AA for text.

Colour never carries meaning alone: every coloured mark also has a text label (decision words,
band letters, legend entries, signed point values). Text colours on their backgrounds reach the
WCAG AA ratio 4.5:1 (tested in tests/dashboard/test_theme.py); graphical marks reach 3:1 where
they are the only cue.
"""
from __future__ import annotations

# Okabe & Ito (2008), distinguishable with the common colour-vision deficiencies
BLUE = "#0072B2"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#767676"          # the lightest grey with 4.5:1 on white

TEXT = "#1A1A1A"
MUTED_TEXT = "#4D4D4D"
BACKGROUND = "#FFFFFF"
PANEL_BACKGROUND = "#F4F6F8"

# marks that raise the score (safer) / lower it (riskier)
RAISES_SCORE = BLUE
LOWERS_SCORE = VERMILLION

DECISION_COLOURS = {"grant": BLUE, "refuse": VERMILLION}
# badge text/background pairs (darker vermillion so white text reaches 4.5:1)
DECISION_BADGES = {"grant": ("#FFFFFF", "#005F96"), "refuse": ("#FFFFFF", "#A84A00")}
DECISION_WORDS = {"grant": "Grant", "refuse": "Refuse"}

BAND_COLOURS = {"A": BLUE, "B": SKY, "C": YELLOW, "D": ORANGE, "E": VERMILLION}
OUTCOME_COLOURS = {"repaid": BLUE, "difficulties": VERMILLION, "pending": GREY,
                   "similar": GREEN, "all": GREY}
OUTCOME_MARKERS = {"repaid": "circle", "difficulties": "triangle", "pending": "square"}
GROUP_LABELS = {"all": "All clients", "outcome_0": "Repaid", "outcome_1": "Had difficulties",
                "pending": "Pending applications", "similar": "50 most similar clients"}
GROUP_COLOURS = {"all": GREY, "outcome_0": BLUE, "outcome_1": VERMILLION, "pending": PURPLE,
                 "similar": GREEN}

# backgrounds of Panel's info and warning alerts (the app writes TEXT on them)
ALERT_BACKGROUNDS = {"info": "#CFF4FC", "warning": "#FFF3CD"}

# every (text, background) pair the app writes text with
TEXT_PAIRS: list[tuple[str, str]] = [
    (TEXT, BACKGROUND), (MUTED_TEXT, BACKGROUND), (TEXT, PANEL_BACKGROUND),
    (MUTED_TEXT, PANEL_BACKGROUND), (GREY, BACKGROUND), *DECISION_BADGES.values(),
    *((TEXT, background) for background in ALERT_BACKGROUNDS.values()),
]


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #RRGGBB colour."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio, 1 … 21."""
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable_text(background: str) -> str:
    """Black or white, whichever contrasts more with `background`."""
    return "#000000" if contrast_ratio("#000000", background) >= contrast_ratio(
        "#FFFFFF", background) else "#FFFFFF"
