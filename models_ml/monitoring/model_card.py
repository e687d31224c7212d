"""`pad model-card`: the champion's model card (Markdown or HTML, French by default).

The card is a document for the lender's reviewers, so it is written in the product's language,
French, unless `--lang en` asks for English (the command line itself stays English). Its texts
are in the message catalogue (domain `pad`, msgctxt `card`), numbers and dates are formatted
for the language; the tables' column names are the warehouse's column names in both.

The technical documentation a reviewer asks for (EU AI Act: credit scoring is high-risk):
intended use, data, features, metrics (out-of-fold and back-test), fairness, drift, limitations,
threshold and cost policy. Every figure is read from the published warehouse (serving.*), so the
card describes exactly what the product serves; nothing is recomputed here.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from numbers import Integral, Real
from pathlib import Path

import duckdb
import pandas as pd
from markdown_it import MarkdownIt

from i18n import format_datetime, format_number, format_percent, translate
from models_ml.families import feature_label
from warehouse.errors import BadInput

CARD_LANGUAGES = ("fr", "en")
LIMITS = 6
POLICY_ITEMS = ("threshold", "cutoff", "cost_ratio", "expected_cost", "refusal_rate", "scaling")
# every text of the card: catalogue msgctxt `card`, msgid the key
CARD_KEYS: tuple[str, ...] = (
    "title", "generated", "model", "use_h", "use", "data_h", "features_h", "excluded",
    "metrics_h", "bands_h", "backtest_h", "fairness_h", "drift_h", "policy_h", "limits_h", "none",
    "metric", "value", "item", "fold_auc", "log_loss", "refuse_at_most", "scaling",
    *(f"policy_{item}" for item in POLICY_ITEMS), *(f"limit_{i}" for i in range(1, LIMITS + 1)))


def catalogue_codes() -> list[tuple[str, str]]:
    """(msgctxt, msgid) of the card's texts (i18n/pad.cfg extracts them)."""
    return [("card", key) for key in CARD_KEYS]


def _t(key: str, lang: str, **params: object) -> str:
    if key not in CARD_KEYS:
        raise KeyError(f"{key!r} is not in CARD_KEYS")
    return translate("card", key, lang, **params)


def _table(frame: pd.DataFrame, lang: str) -> str:
    """A Markdown table; column names are the warehouse's (language-free) column names."""
    if frame.empty:
        return f"_{_t('none', lang)}_"
    cells = frame.astype(object).where(frame.notna(), "—")
    lines = ["| " + " | ".join(map(str, cells.columns)) + " |",
             "|" + "---|" * len(cells.columns)]
    lines += ["| " + " | ".join(_fmt(v, lang) for v in row) + " |"
              for row in cells.itertuples(False)]
    return "\n".join(lines)


def _fmt(value: object, lang: str) -> str:
    if isinstance(value, Integral) and not isinstance(value, bool):
        return format_number(int(value), lang)
    if isinstance(value, Real) and not isinstance(value, bool):
        return format_number(float(value), lang, 4 if abs(value) < 10 else 1)
    if isinstance(value, datetime):
        return format_datetime(value, lang)
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


def _metrics(m: pd.Series, lang: str) -> pd.DataFrame:
    def n(value: float) -> str:
        return format_number(value, lang, 4)

    return pd.DataFrame({_t("metric", lang): ["OOF ROC AUC", _t("fold_auc", lang), "Brier",
                                              _t("log_loss", lang), "KS"],
                         _t("value", lang): [n(m["oof_auc"]),
                                             f"{n(m['fold_auc_mean'])} ± {n(m['fold_auc_std'])}",
                                             n(m["brier"]), n(m["log_loss"]), n(m["ks"])]})


def _policy(m: pd.Series, params: dict, lang: str) -> pd.DataFrame:
    cost = m.get("cost_fn_fp", params.get("cost_fn_fp"))
    return pd.DataFrame({
        _t("item", lang): [_t(f"policy_{item}", lang) for item in POLICY_ITEMS],
        _t("value", lang): [
            format_number(m["threshold"], lang, 4),
            _t("refuse_at_most", lang, cutoff=format_number(m["score_cutoff"], lang)),
            f"{format_number(cost, lang) if cost is not None else '—'} : 1",
            format_number(m["expected_cost"], lang, 4),
            format_percent(m.get("refusal_rate", float("nan")), lang),
            _t("scaling", lang)]})


def _trained_at(value: object, lang: str) -> str:
    moment = pd.Timestamp(value)
    if moment is pd.NaT:
        return "—"
    moment = moment.tz_localize(UTC) if moment.tzinfo is None else moment
    return format_datetime(moment.to_pydatetime(), lang)


def render_markdown(warehouse: Path, lang: str = "fr") -> str:
    """The card in `lang` (French by default: a document for the lender's reviewers)."""
    if lang not in CARD_LANGUAGES:
        raise BadInput(f"--lang must be fr or en, got {lang!r}")
    data = _read(warehouse)
    m = data["champion"].iloc[0]
    params = json.loads(m["params"]) if isinstance(m.get("params"), str) else {}
    now = format_datetime(datetime.now(UTC), lang)
    sections = [
        f"# {_t('title', lang)}", _t("generated", lang, now=now, path=warehouse),
        _t("model", lang, v=m["model_version"], at=_trained_at(m["trained_at"], lang),
           n=format_number(int(m["n_train"]), lang), f=int(m["n_features"]),
           c=m.get("calibration_method", "platt"), fp=m.get("data_fingerprint", "—")),
        f"## {_t('use_h', lang)}", _t("use", lang),
        f"## {_t('data_h', lang)}", _table(data["population"], lang),
        f"## {_t('features_h', lang)}",
        f"{_t('excluded', lang)} {', '.join(params.get('exclude_features', [])) or '—'}.",
        _table(_feature_labels(data["features"], lang), lang),
        f"## {_t('metrics_h', lang)}", _table(_metrics(m, lang), lang),
        f"### {_t('bands_h', lang)}", _table(data["bands"], lang),
        f"## {_t('backtest_h', lang)}", _table(data["backtest"], lang),
        f"## {_t('fairness_h', lang)}", _table(data["fairness_summary"], lang),
        _table(data["fairness"], lang),
        f"## {_t('drift_h', lang)}", _table(data["drift"], lang),
        f"## {_t('policy_h', lang)}", _table(_policy(m, params, lang), lang),
        f"## {_t('limits_h', lang)}",
        "\n".join(f"- {_t(f'limit_{i}', lang)}" for i in range(1, LIMITS + 1)),
    ]
    return "\n\n".join(sections) + "\n"


def _feature_labels(features: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The importance table with each feature's label in `lang` (by feature name)."""
    out = features.copy()
    out["feature_label"] = [feature_label(name, lang, label if isinstance(label, str) else name)
                            for name, label in zip(out["feature_name"], out["feature_label"],
                                                   strict=True)]
    return out


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
                f"<title>{_t('title', lang)}</title><style>body{{font-family:sans-serif;"
                f"max-width:70em;margin:auto}}table{{border-collapse:collapse}}td,th{{border:"
                f"1px solid #999;padding:2px 6px}}</style></head><body>\n{body}</body></html>\n")
    temp = out.with_name(f".{out.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    temp.replace(out)
    return text
