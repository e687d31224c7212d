"""The dashboard's one data interface and its two implementations.

`DataSource` is what every dashboard component reads. `dashboard.lookup.Lookup` implements it
in-process (the default); `HttpSource` implements it over the lookup API (`pad dashboard --api
URL`), mapping 404 → ClientNotFound, 422 → InvalidRequest and 503 → WarehouseUnavailable so
the components handle both the same way.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel

from dashboard.lookup import ClientNotFound, InvalidRequest, Lookup, WarehouseUnavailable
from dashboard.schemas import (
    ClientPage,
    ClientRecord,
    ClientScore,
    Comparison,
    Explanation,
    FeatureList,
    Health,
    ModelCurves,
    ModelRuns,
    ModelSummary,
    Portfolio,
    RefreshRuns,
    Scatter,
    SimilarClients,
)

M = TypeVar("M", bound=BaseModel)


class DataSource(Protocol):
    """What the dashboard reads: the lookup API's resources as typed records."""

    def health(self) -> Health: ...
    def search_clients(self, q: str | None = None, population: str | None = None,
                       decision: str | None = None, risk_band: str | None = None,
                       limit: int = 50, offset: int = 0) -> ClientPage: ...
    def client(self, sk_id_curr: int) -> ClientRecord: ...
    def score(self, sk_id_curr: int) -> ClientScore: ...
    def explanation(self, sk_id_curr: int) -> Explanation: ...
    def similar(self, sk_id_curr: int, k: int = 10) -> SimilarClients: ...
    def features(self) -> FeatureList: ...
    def comparison(self, sk_id_curr: int, feature: str, group: str = "all") -> Comparison: ...
    def scatter(self, sk_id_curr: int, x: str, y: str) -> Scatter: ...
    def model(self) -> ModelSummary: ...
    def model_runs(self) -> ModelRuns: ...
    def model_curves(self) -> ModelCurves: ...
    def refresh_runs(self, limit: int = 20) -> RefreshRuns: ...
    def portfolio(self) -> Portfolio: ...


class HttpSource:
    """`DataSource` over the lookup API at `base_url` (bearer `token` when given)."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 10.0,
                 client: httpx.Client | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        # one pooled client: keep-alive connections make each lookup a few ms cheaper
        # (`client` lets tests pass FastAPI's TestClient, an httpx.Client)
        self._client = client or httpx.Client(base_url=self.base_url, headers=headers,
                                               timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def _get(self, model: type[M], path: str, **params: Any) -> M:
        query = {k: v for k, v in params.items() if v is not None}
        try:
            response = self._client.get(path, params=query)
        except httpx.HTTPError as exc:
            raise WarehouseUnavailable(f"lookup API at {self.base_url} unreachable: {exc}") from exc
        if response.status_code == 404:
            raise ClientNotFound(_detail(response))
        if response.status_code == 422:
            raise InvalidRequest(_detail(response))
        if response.status_code == 503:
            raise WarehouseUnavailable(_detail(response))
        if response.status_code == 401:
            raise WarehouseUnavailable(f"lookup API at {self.base_url} refused the token "
                                       f"(set PAD_API_TOKEN)")
        response.raise_for_status()
        return model.model_validate(response.json())

    def health(self) -> Health:
        try:
            response = self._client.get("/health")
            return Health.model_validate(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            return Health(status="unavailable", warehouse=self.base_url,
                          detail=f"lookup API at {self.base_url} unreachable: {exc}")

    def search_clients(self, q: str | None = None, population: str | None = None,
                       decision: str | None = None, risk_band: str | None = None,
                       limit: int = 50, offset: int = 0) -> ClientPage:
        return self._get(ClientPage, "/clients", q=q, population=population, decision=decision,
                         risk_band=risk_band, limit=limit, offset=offset)

    def client(self, sk_id_curr: int) -> ClientRecord:
        return self._get(ClientRecord, f"/clients/{int(sk_id_curr)}")

    def score(self, sk_id_curr: int) -> ClientScore:
        return self._get(ClientScore, f"/clients/{int(sk_id_curr)}/score")

    def explanation(self, sk_id_curr: int) -> Explanation:
        return self._get(Explanation, f"/clients/{int(sk_id_curr)}/explanation")

    def similar(self, sk_id_curr: int, k: int = 10) -> SimilarClients:
        return self._get(SimilarClients, f"/clients/{int(sk_id_curr)}/similar", k=k)

    def features(self) -> FeatureList:
        return self._get(FeatureList, "/features")

    def comparison(self, sk_id_curr: int, feature: str, group: str = "all") -> Comparison:
        return self._get(Comparison, f"/clients/{int(sk_id_curr)}/comparison", feature=feature,
                         group=group)

    def scatter(self, sk_id_curr: int, x: str, y: str) -> Scatter:
        return self._get(Scatter, f"/clients/{int(sk_id_curr)}/scatter", x=x, y=y)

    def model(self) -> ModelSummary:
        return self._get(ModelSummary, "/model")

    def model_runs(self) -> ModelRuns:
        return self._get(ModelRuns, "/model/runs")

    def model_curves(self) -> ModelCurves:
        return self._get(ModelCurves, "/model/curves")

    def refresh_runs(self, limit: int = 20) -> RefreshRuns:
        return self._get(RefreshRuns, "/refresh-runs", limit=limit)

    def portfolio(self) -> Portfolio:
        return self._get(Portfolio, "/portfolio")


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return response.text[:200]
    if isinstance(detail, list):  # FastAPI validation errors: say which input and why
        return "; ".join(f"{'.'.join(str(p) for p in e.get('loc', [])[1:])}: {e.get('msg')}"
                         for e in detail if isinstance(e, dict))
    return str(detail)


def open_source(warehouse: Path, api_url: str | None = None, token: str | None = None,
                threads: int = 1) -> DataSource:
    """The in-process lookup on `warehouse`, or the HTTP API when `api_url` is given."""
    if api_url:
        return HttpSource(api_url, token=token)
    return Lookup(warehouse, threads=threads)
