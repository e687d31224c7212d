"""serving.similar_clients — grain: one row per client and rank (sk_id_curr, rank).

For every client (history and pending) its k = 50 most similar *history* clients (known
outcome), nearest first. "Similar" is defined and computed in warehouse/similarity.py: the 12
most important features of serving.client_feature_values as percentile ranks weighted by their
share of the importance, reduced to 4 principal axes, exact neighbours with a k-d tree (about a
minute for 356k clients on 2 cores).
"""
import pandas as pd

from warehouse.similarity import SIMILARITY_FEATURES, nearest_history_neighbours

KEYS = {"sk_id_curr", "population", "target", "in_scatter_sample"}


def model(dbt, session):
    dbt.config(materialized="table", schema="serving", tags=["dashboard"])
    # sorted by id so the neighbour rows come out in (sk_id_curr, rank) order
    values = dbt.ref("client_feature_values").df().sort_values("sk_id_curr", kind="stable")
    importance = dbt.ref("feature_importance").df().sort_values(["rank", "feature_name"])
    weights = importance.drop_duplicates("feature_name").set_index("feature_name")
    names = [n for n in weights.index if n in values.columns and n not in KEYS]
    names = names[:SIMILARITY_FEATURES]
    ids = values["sk_id_curr"].to_numpy()
    if names:
        neighbours = nearest_history_neighbours(
            ids=ids,
            values=values[names].to_numpy(dtype="float64", na_value=float("nan")),
            is_history=(values["population"] == "history").to_numpy(),
            importance=weights.loc[names, "mean_abs_shap"].to_numpy(dtype="float64"),
        )
    else:  # no comparable feature published: an empty table with the right columns
        neighbours = pd.DataFrame({"sk_id_curr": [], "rank": [], "neighbour_id": [],
                                   "distance": []})
    # ids keep the type of serving.clients.sk_id_curr (joins without casts)
    for column in ("sk_id_curr", "neighbour_id"):
        neighbours[column] = neighbours[column].astype(ids.dtype)
    neighbours["rank"] = neighbours["rank"].astype("int32")
    neighbours["distance"] = neighbours["distance"].astype("float64")
    return neighbours
