"""`pad model-card`: the champion's model card (Markdown or HTML, French by default).

The technical documentation a reviewer asks for (EU AI Act: credit scoring is high-risk):
intended use, data, features, metrics (out-of-fold and back-test), fairness, drift, limitations,
threshold and cost policy. Every figure is read from the published warehouse (serving.*), so the
card describes exactly what the product serves; nothing is recomputed here.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
from markdown_it import MarkdownIt

from warehouse.errors import BadInput

T = {
    "fr": {
        "title": "Fiche modèle — score de crédit Prêt à dépenser",
        "generated": "Générée le {now} depuis l'entrepôt publié ({path}).",
        "use_h": "Usage prévu",
        "use": ("Estimer, pour chaque demande de crédit en attente, la probabilité de difficultés "
                "de paiement et en déduire une recommandation d'octroi ou de refus, expliquée au "
                "conseiller et au client. Clientèle : personnes avec peu ou pas d'historique de "
                "crédit. Aide à la décision : un conseiller confirme, modifie ou motive chaque "
                "décision (journal des décisions) ; le modèle ne refuse jamais seul. Hors usage : "
                "tarification, recouvrement, toute population différente de celle d'entraînement."),
        "data_h": "Données",
        "features_h": "Variables",
        "metrics_h": "Performances (prédictions hors échantillon, validation croisée)",
        "bands_h": "Taux de défaut observé par classe de risque (classe hors échantillon)",
        "backtest_h": "Back-test sur les issues arrivées depuis (test de Jeffreys par classe)",
        "fairness_h": "Équité (prédictions hors échantillon)",
        "drift_h": "Stabilité de la population (dernier rafraîchissement)",
        "policy_h": "Seuil et politique de coût",
        "limits_h": "Limites",
        "none": "aucune donnée pour l'instant",
        "excluded": "Exclues du modèle",
        "model": ("**Modèle** `{v}` — LightGBM, entraîné le {at}, {n:,} clients historiques, "
                  "{f} variables, calibration {c}, empreinte des données `{fp}`."),
        "limits": [
            "Données d'entraînement : le format Kaggle Home Credit ; en démonstration, un "
            "portefeuille synthétique au mécanisme de défaut connu.",
            "Les clients refusés par le passé n'ont pas d'issue observée : les performances et "
            "l'équité ne sont mesurées que sur des clients acceptés (biais de sélection).",
            "Le genre n'est pas une variable du modèle, mais d'autres variables peuvent lui être "
            "corrélées : l'équité est donc mesurée, pas supposée.",
            "Les petits groupes (signalés 'small_group') ont des taux peu fiables.",
            "Une dérive de population (PSI 'act') ou un back-test en échec appellent une revue "
            "et, le cas échéant, un réentraînement.",
            "Les explications (SHAP) décrivent le modèle, pas une relation de cause à effet.",
        ],
    },
    "en": {
        "title": "Model card — Prêt à dépenser credit score",
        "generated": "Generated on {now} from the published warehouse ({path}).",
        "use_h": "Intended use",
        "use": ("Estimate, for every pending credit application, the probability of payment "
                "difficulties and turn it into a grant/refuse recommendation that is explained to "
                "the advisor and to the client. Population: people with little or no credit "
                "history. Decision support: an advisor confirms, overrides or justifies every "
                "decision (decision log); the model never refuses on its own. Out of scope: "
                "pricing, collections, any population unlike the training one."),
        "data_h": "Data",
        "features_h": "Features",
        "metrics_h": "Performance (out-of-fold predictions, cross-validation)",
        "bands_h": "Observed default rate per risk band (out-of-fold band)",
        "backtest_h": "Back-test on the outcomes that arrived since (Jeffreys test per band)",
        "fairness_h": "Fairness (out-of-fold predictions)",
        "drift_h": "Population stability (latest refresh)",
        "policy_h": "Threshold and cost policy",
        "limits_h": "Limitations",
        "none": "no data yet",
        "excluded": "Excluded from the model",
        "model": ("**Model** `{v}` — LightGBM, trained {at}, {n:,} history clients, "
                  "{f} features, calibration {c}, data fingerprint `{fp}`."),
        "limits": [
            "Training data: the Kaggle Home Credit format; in the demo, a synthetic portfolio "
            "with a known default mechanism.",
            "Clients refused in the past have no observed outcome: performance and fairness are "
            "measured on accepted clients only (selection bias).",
            "Gender is not a model input, but other inputs may correlate with it: fairness is "
            "measured, not assumed.",
            "Small groups (flagged 'small_group') have unreliable rates.",
            "Population drift (PSI 'act') or a failed back-test call for a review and, where "
            "needed, a retrain.",
            "Explanations (SHAP) describe the model, not cause and effect.",
        ],
    },
}


def _table(frame: pd.DataFrame, none: str) -> str:
    if frame.empty:
        return f"_{none}_"
    cells = frame.astype(object).where(frame.notna(), "—")
    lines = ["| " + " | ".join(map(str, cells.columns)) + " |",
             "|" + "---|" * len(cells.columns)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in cells.itertuples(False)]
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value).replace("|", "/")


def _read(warehouse: Path) -> dict[str, pd.DataFrame]:
    if not warehouse.is_file():
        raise BadInput(f"{warehouse}: no published warehouse (run pad refresh first)")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        champion = con.execute("select * from serving.model_runs where is_champion").df()
        if champion.empty:
            raise BadInput(f"{warehouse}: no champion model in serving.model_runs")
        version = champion["model_version"].iloc[0]
        q = {
            "population": "select population, count(*) as clients, avg(target) as default_rate "
                          "from serving.clients group by 1 order by 1",
            "features": "select i.rank, i.feature_name, d.feature_label, i.mean_abs_shap "
                        "from serving.feature_importance i left join serving.feature_dictionary"
                        " d using (feature_name) where i.model_version = ? order by i.rank "
                        "limit 15",
            "bands": "select risk_band, history_clients, default_rate, mean_oof_probability "
                     "from serving.band_outcomes where model_version = ? order by risk_band",
            "backtest": "select as_of, risk_band, clients, predicted_rate, observed_rate, "
                        "jeffreys_p, auc, flag from serving.backtest order by as_of, risk_band",
            "fairness": "select attribute, \"group\", clients, refusal_rate, "
                        "default_rate_granted, tpr, fpr, auc, grant_rate_ratio, flag from "
                        "serving.fairness where model_version = ? order by attribute, \"group\"",
            "fairness_summary": "select attribute, any_value(demographic_parity_ratio) as "
                                "demographic_parity_ratio, any_value(equalized_odds_difference) "
                                "as equalized_odds_difference from serving.fairness where "
                                "model_version = ? group by 1 order by 1",
            "drift": "select reference, flag, count(*) as features, max(psi) as max_psi from "
                     "serving.drift where refresh_run_id = (select max(refresh_run_id) from "
                     "serving.drift) group by all order by all",
        }
        out = {"champion": champion}
        for name, sql in q.items():
            out[name] = con.execute(sql, [version] if "?" in sql else []).df()
        return out
    finally:
        con.close()


def render_markdown(warehouse: Path, lang: str = "fr") -> str:
    if lang not in T:
        raise BadInput(f"--lang must be fr or en, got {lang!r}")
    t, data = T[lang], _read(warehouse)
    m = data["champion"].iloc[0]
    params = json.loads(m["params"]) if isinstance(m.get("params"), str) else {}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    metrics = pd.DataFrame({"metric": ["OOF ROC AUC", "fold AUC (mean ± sd)", "Brier",
                                       "log loss", "KS"],
                            "value": [f"{m['oof_auc']:.4f}",
                                      f"{m['fold_auc_mean']:.4f} ± {m['fold_auc_std']:.4f}",
                                      f"{m['brier']:.4f}", f"{m['log_loss']:.4f}",
                                      f"{m['ks']:.4f}"]})
    policy = pd.DataFrame({"item": ["threshold (probability)", "score cutoff (points)",
                                    "cost FN : FP", "expected cost (OOF, per client)",
                                    "refusal rate (OOF)", "score scaling"],
                           "value": [f"{m['threshold']:.4f}", f"refuse ≤ {m['score_cutoff']}",
                                     f"{m.get('cost_fn_fp', params.get('cost_fn_fp'))} : 1",
                                     f"{m['expected_cost']:.4f}",
                                     f"{m.get('refusal_rate', float('nan')):.1%}",
                                     "600 points at odds 50:1, 20 points to double the odds"]})
    sections = [
        f"# {t['title']}", t["generated"].format(now=now, path=warehouse),
        t["model"].format(v=m["model_version"], at=m["trained_at"], n=int(m["n_train"]),
                          f=int(m["n_features"]), c=m.get("calibration_method", "platt"),
                          fp=m.get("data_fingerprint", "—")),
        f"## {t['use_h']}", t["use"],
        f"## {t['data_h']}", _table(data["population"], t["none"]),
        f"## {t['features_h']}",
        f"{t['excluded']}: {', '.join(params.get('exclude_features', [])) or '—'}.",
        _table(data["features"], t["none"]),
        f"## {t['metrics_h']}", _table(metrics, t["none"]),
        f"### {t['bands_h']}", _table(data["bands"], t["none"]),
        f"## {t['backtest_h']}", _table(data["backtest"], t["none"]),
        f"## {t['fairness_h']}", _table(data["fairness_summary"], t["none"]),
        _table(data["fairness"], t["none"]),
        f"## {t['drift_h']}", _table(data["drift"], t["none"]),
        f"## {t['policy_h']}", _table(policy, t["none"]),
        f"## {t['limits_h']}", "\n".join(f"- {line}" for line in t["limits"]),
    ]
    return "\n\n".join(sections) + "\n"


def write_model_card(warehouse: Path, out: Path | None, lang: str = "fr") -> str:
    """Render the card; write it to `out` (.md or .html) or return the Markdown for stdout."""
    if out is not None and out.suffix.lower() not in (".md", ".html"):
        raise BadInput(f"--out must end in .md or .html, got {out.name}")
    text = render_markdown(warehouse, lang)
    if out is None:
        return text
    if out.suffix.lower() == ".html":
        body = MarkdownIt("commonmark").enable("table").render(text)
        text = (f"<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
                f"<title>{T[lang]['title']}</title><style>body{{font-family:sans-serif;"
                f"max-width:70em;margin:auto}}table{{border-collapse:collapse}}td,th{{border:"
                f"1px solid #999;padding:2px 6px}}</style></head><body>\n{body}</body></html>\n")
    temp = out.with_name(f".{out.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    temp.replace(out)
    return text
