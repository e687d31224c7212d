"""The printable decision notice (HTML, French by default; `lang="en"` for English).

What the client is told in plain words: the decision, the main reasons, what it would take
(the recourse options when the what-if service offers them), their right to a human review and
how to contest — with the contest code that lets them do it from the client view.
"""
from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

# reason codes (the families of models_ml.families, upper case) in plain French
REASONS_FR = {
    "EXTERNAL_SCORES": "Des scores défavorables auprès d'organismes de crédit extérieurs",
    "LATE_PAYMENTS": "Des retards de paiement sur des échéances passées",
    "PAYMENT_BEHAVIOUR": "La façon dont les échéances passées ont été payées",
    "PREVIOUS_REFUSALS": "Des demandes de crédit refusées par le passé",
    "PREVIOUS_LOANS": "Vos demandes de crédit précédentes",
    "POS_LOANS": "Vos crédits en cours en magasin ou en espèces",
    "CARD_USAGE": "Une forte utilisation de vos plafonds de carte de crédit",
    "BUREAU_OVERDUE": "Des crédits en retard auprès d'autres prêteurs",
    "BUREAU_DEBT": "Un endettement élevé auprès d'autres prêteurs",
    "BUREAU_HISTORY": "Un historique de crédit court ou défavorable",
    "CREDIT_ENQUIRIES": "De nombreuses demandes récentes auprès du bureau de crédit",
    "INCOME_BURDEN": "Des remboursements élevés par rapport à vos revenus",
    "CREDIT_REQUEST": "Le montant ou la durée du crédit demandé",
    "EMPLOYMENT": "Un emploi récent, instable ou l'absence d'emploi",
    "EDUCATION": "Le niveau d'études",
    "HOUSING": "La situation de logement et le patrimoine",
    "DOCUMENTS_CONTACT": "Des documents manquants ou des changements récents de coordonnées",
    "REGION": "La région de résidence ou des incohérences d'adresse",
    "SOCIAL_CIRCLE": "Des défauts de paiement dans votre entourage",
    "APPLICATION_PROCESS": "Les circonstances de la demande",
    "OTHER": "D'autres informations de votre dossier",
}
TEXT = {
    "fr": {
        "title": "Avis de décision sur votre demande de crédit",
        "application": "Demande n°", "date": "Date",
        "grant": "Votre demande de crédit est <b>acceptée</b>.",
        "refuse": "Votre demande de crédit n'a <b>pas pu être acceptée</b> en l'état.",
        "proposal": "Aucun conseiller n'a encore statué : ceci est la proposition du modèle "
                    "de score, qui n'est pas encore une décision.",
        "by_advisor": "Décision prise par un conseiller le {when}.",
        "edited": "Décision prise sur une demande modifiée : {edits}.",
        "score": "Votre score : {score} points (seuil d'acceptation : {cutoff} points). Plus "
                 "le score est élevé, plus le remboursement sans difficulté est probable.",
        "reasons": "Les principales raisons", "no_reasons": "Aucun élément défavorable "
                   "marquant.",
        "take": "Ce qu'il faudrait pour que la décision change",
        "no_take": "Votre conseiller peut simuler avec vous des changements de votre demande "
                   "(montant, durée, apport) et leur effet sur la décision.",
        "rights": "Vos droits",
        "rights_text": "Cette décision s'appuie sur un traitement automatisé. Vous avez le "
                       "droit d'obtenir l'intervention d'une personne, d'exprimer votre point "
                       "de vue et de demander le réexamen de la décision par un conseiller "
                       "autre que celui qui l'a prise (directive (UE) 2023/2225, art. 18).",
        "contest": "Comment contester",
        "contest_text": "Sur votre espace client ({link}), écrivez votre point de vue et "
                        "saisissez le code de contestation <b>{code}</b>. Vous pouvez aussi "
                        "contacter votre conseiller. Votre contestation est enregistrée et "
                        "examinée par un autre conseiller.",
        "print": "Imprimer",
    },
    "en": {
        "title": "Notice of decision on your credit application",
        "application": "Application no.", "date": "Date",
        "grant": "Your credit application is <b>accepted</b>.",
        "refuse": "Your credit application <b>could not be accepted</b> as it stands.",
        "proposal": "No advisor has decided yet: this is the scoring model's proposal, not yet "
                    "a decision.",
        "by_advisor": "Decision taken by an advisor on {when}.",
        "edited": "Decision taken on an edited application: {edits}.",
        "score": "Your score: {score} points (accepted above {cutoff} points). The higher the "
                 "score, the more likely the credit is repaid without difficulty.",
        "reasons": "The main reasons", "no_reasons": "No notable unfavourable element.",
        "take": "What it would take to change the decision",
        "no_take": "Your advisor can simulate with you changes to your application (amount, "
                   "term, down payment) and their effect on the decision.",
        "rights": "Your rights",
        "rights_text": "This decision relies on automated processing. You have the right to "
                       "human intervention, to express your point of view and to ask for the "
                       "decision to be reviewed by an advisor other than the one who took it "
                       "(Directive (EU) 2023/2225, art. 18).",
        "contest": "How to contest",
        "contest_text": "In your client space ({link}), write your point of view and enter "
                        "the contest code <b>{code}</b>. You can also contact your advisor. "
                        "Your contest is recorded and reviewed by another advisor.",
        "print": "Print",
    },
}
PRINT_CSS = """<style>
body{font-family:Georgia,serif;max-width:42em;margin:2em auto;color:#1a1a1a;line-height:1.5}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.4em}.meta{color:#444}
@media print{.no-print{display:none}body{margin:0}}
</style>"""


def _reason_text(reason: Any, lang: str) -> str:
    code, text = _get(reason, "reason_code"), _get(reason, "reason_text")
    return REASONS_FR.get(code, text) if lang == "fr" else text


def _get(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def notice_html(score: Any, explanation: Any, given: dict[str, Any] | None, code: str,
                link: str, options: list[str] | None = None, lang: str = "fr") -> str:
    """The whole notice as one HTML document (print it from the browser)."""
    t = TEXT[lang if lang in TEXT else "fr"]
    sk_id = _get(score, "sk_id_curr")
    decision = given["decision"] if given else _get(score, "decision")
    parts = [(f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>"
             f"<title>{t['title']} {sk_id}</title>{PRINT_CSS}</head><body>"),
             f"<h1>{t['title']}</h1>",
             (f"<p class='meta'>{t['application']} {sk_id} · {t['date']} "
             f"{datetime.now(UTC):%d/%m/%Y}</p>"),
             f"<p data-testid='notice-decision' data-decision='{decision}'>{t[decision]}</p>"]
    if given:
        parts.append(f"<p>{t['by_advisor'].format(when=html.escape(given['created_at'][:10]))}"
                     "</p>")
        if given.get("what_if_edits"):
            edits = ", ".join(f"{html.escape(str(k))} = {html.escape(str(v))}"
                              for k, v in given["what_if_edits"].items())
            parts.append(f"<p>{t['edited'].format(edits=edits)}</p>")
    else:
        parts.append(f"<p>{t['proposal']}</p>")
    cutoff = round(_get(score, "score_cutoff"))
    parts.append(f"<p>{t['score'].format(score=_get(score, 'score'), cutoff=cutoff)}</p>")
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
