"""Machine learning of the warehouse: training, scoring, SHAP explanations and the model registry.

Plain functions that take a DuckDB file path (and a models folder); the Prefect refresh flow in
`flows/` calls them in this order (see `models_ml.pipeline`):

1. `train_model`      — history clients of marts.client_features → a registered model version
                        (champion guard, CONTRACTS §5);
2. `score_clients`    — every client scored and explained by the champion, written to schema `ml`
                        (incremental: unchanged clients are copied from the previous warehouse);
3. `write_model_tables` — registry, curves, importance and the feature dictionary into `ml`.

No Prefect or Panel imports here; the environment is read only in `models_ml.config`.
"""
import os as _os

# LightGBM's OpenMP threads spin while they wait for each other; when the refresh shares the
# machine with DuckDB, dbt or a dashboard, spinning threads steal the cores the working ones
# need and training slows down several-fold. Passive waiting costs nothing measurable on an idle
# machine. Set before LightGBM is first imported (OpenMP reads it once); an explicit setting wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
