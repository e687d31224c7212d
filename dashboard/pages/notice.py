"""The printable decision notice (HTML, French by default; `lang="en"` for English).

What the client is told in plain words: the decision, the main reasons, what it would take
(the recourse options when the what-if service offers them), their right to a human review and
how to contest — with the contest code that lets them do it from the client view.
"""
from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from dashboard.texts import N_, texts
from i18n import LANGUAGES, translate

# the notice's texts by part (English msgids of the catalogue's `dashboard` domain)
NOTICE = {
    "title": N_("Notice of decision on your credit application"),
    "application": N_("Application no."),
    "date": N_("Date"),
    "grant": N_("Your credit application is <b>accepted</b>."),
    "refuse": N_("Your credit application <b>could not be accepted</b> as it stands."),
    "proposal": N_("No advisor has decided yet: this is the scoring model's proposal, not yet a"
                   " decision."),
    "by_advisor": N_("Decision taken by an advisor on {when}."),
    "edited": N_("Decision taken on an edited application: {edits}."),
    "score": N_("Your score: {score} points (accepted above {cutoff} points). The higher the "
                "score, the more likely the credit is repaid without difficulty."),
    "reasons": N_("The main reasons"),
    "no_reasons": N_("No notable unfavourable element."),
    "take": N_("What it would take to change the decision"),
    "no_take": N_("Your advisor can simulate with you changes to your application (amount, "
                  "term, down payment) and their effect on the decision."),
    "rights": N_("Your rights"),
    "rights_text": N_("This decision relies on automated processing. You have the right to "
                      "human intervention, to express your point of view and to ask for the "
                      "decision to be reviewed by an advisor other than the one who took it "
                      "(Directive (EU) 2023/2225, art. 18)."),
    "contest": N_("How to contest"),
    "contest_text": N_("In your client space ({link}), write your point of view and enter the "
                       "contest code <b>{code}</b>. You can also contact your advisor. Your "
                       "contest is recorded and reviewed by another advisor."),
    "print": N_("Print"),
}
PRINT_CSS = """<style>
body{font-family:Georgia,serif;max-width:42em;margin:2em auto;color:#1a1a1a;line-height:1.5}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.4em}.meta{color:#444}
@media print{.no-print{display:none}body{margin:0}}
</style>"""


def _reason_text(reason: Any, lang: str) -> str:
    return translate("reason", _get(reason, "reason_code"), lang,
                     default=_get(reason, "reason_text"))


def _get(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def notice_html(score: Any, explanation: Any, given: dict[str, Any] | None, code: str,
                link: str, options: list[str] | None = None, lang: str = "fr") -> str:
    """The whole notice as one HTML document (print it from the browser)."""
    tr = texts(lang if lang in LANGUAGES else "fr")
    lang = tr.lang
    t = {key: tr._(message) for key, message in NOTICE.items()}
    sk_id = _get(score, "sk_id_curr")
    decision = given["decision"] if given else _get(score, "decision")
    parts = [(f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>"
             f"<title>{t['title']} {sk_id}</title>{PRINT_CSS}</head><body>"),
             f"<h1>{t['title']}</h1>",
             (f"<p class='meta'>{t['application']} {sk_id} · {t['date']} "
             f"{tr.date(datetime.now(UTC))}</p>"),
             f"<p data-testid='notice-decision' data-decision='{decision}'>{t[decision]}</p>"]
    if given:
        when = tr.date(datetime.fromisoformat(given["created_at"]))
        parts.append(f"<p>{t['by_advisor'].format(when=html.escape(when))}</p>")
        if given.get("what_if_edits"):
            edits = ", ".join(f"{html.escape(str(k))} = {html.escape(str(v))}"
                              for k, v in given["what_if_edits"].items())
            parts.append(f"<p>{t['edited'].format(edits=edits)}</p>")
    else:
        parts.append(f"<p>{t['proposal']}</p>")
    cutoff = round(_get(score, "score_cutoff"))
    shown = t["score"].format(score=tr.number(_get(score, "score")), cutoff=tr.number(cutoff))
    parts.append(f"<p>{shown}</p>")
    reasons = list(_get(explanation, "reasons"))
    parts.append(f"<h2>{t['reasons']}</h2>")
    parts.append("<ul>" + "".join(f"<li>{html.escape(_reason_text(r, lang))}</li>"
                                  for r in reasons) + "</ul>" if reasons else
                 f"<p>{t['no_reasons']}</p>")
    if decision == "refuse":
        parts.append(f"<h2>{t['take']}</h2>")
        parts.append("<ul>" + "".join(f"<li>{html.escape(o)}</li>" for o in options) + "</ul>"
                     if options else f"<p>{t['no_take']}</p>")
    parts += [f"<h2>{t['rights']}</h2><p>{t['rights_text']}</p>",
              (f"<h2>{t['contest']}</h2>"
              f"<p>{t['contest_text'].format(link=html.escape(link), code=code)}</p>"),
              f"<p class='no-print'><button onclick='window.print()'>{t['print']}</button></p>",
              "</body></html>"]
    return "\n".join(parts)
