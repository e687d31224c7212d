"""serving.similar_clients — grain: one row per client and rank (sk_id_curr, rank).

For every client (history and pending) its k = 50 most similar *history* clients (known
outcome), nearest first. "Similar" is defined and computed in warehouse/similarity.py: the 12
most important features of serving.client_feature_values as percentile ranks weighted by their
share of the importance, reduced to 4 principal axes, exact neighbours with a k-d tree (about a
minute for 356k clients on 2 cores). The rows reach DuckDB as a stream of Arrow batches, one
per chunk of clients: 50 rows per client are never held whole in Python.
"""
import pyarrow as pa

from warehouse.similarity import SIMILARITY_FEATURES, batch_schema, neighbour_batches

KEYS = {"sk_id_curr", "population", "target", "in_scatter_sample"}


def model(dbt, session):
    dbt.config(materialized="table", schema="serving", tags=["dashboard"])
    importance = dbt.ref("feature_importance").df().sort_values(["rank", "feature_name"])
    weights = importance.drop_duplicates("feature_name").set_index("feature_name")
    relation = dbt.ref("client_feature_values")
    names = [n for n in weights.index if n in relation.columns and n not in KEYS]
    names = names[:SIMILARITY_FEATURES]
    # only the columns used, sorted by id so the rows come out in (sk_id_curr, rank) order;
    # ids keep the type of serving.clients.sk_id_curr (joins without casts)
    columns = ", ".join(f'"{n}"' for n in ["sk_id_curr", "population", *names])
    values = relation.project(columns).order("sk_id_curr").df()
    ids = values["sk_id_curr"].to_numpy()
    schema = batch_schema(pa.from_numpy_dtype(ids.dtype))
    if not names:  # no comparable feature published: an empty table with the right columns
        return pa.RecordBatchReader.from_batches(schema, [])
    batches = neighbour_batches(
        ids=ids,
        values=values[names].to_numpy(dtype="float64", na_value=float("nan")),
        is_history=(values["population"] == "history").to_numpy(),
        importance=weights.loc[names, "mean_abs_shap"].to_numpy(dtype="float64"),
    )
    return pa.RecordBatchReader.from_batches(schema, batches)
