"""What the dashboard's what-if panel reads, in-process or over the API (as dashboard.source).

`whatif_source(source)` gives the implementation that matches the dashboard's data source:
`WhatIfLookup` on the in-process Lookup, `HttpWhatIf` on the lookup API (the routes of
dashboard/api_whatif.py), with the same error mapping as dashboard.source.HttpSource.
"""
from __future__ import annotations

import threading
import weakref
from typing import Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel

from dashboard.lookup import ClientNotFound, InvalidRequest, Lookup, WarehouseUnavailable
from dashboard.source import DataSource, HttpSource, _detail
from dashboard.whatif_lookup import WhatIfLookup
from dashboard.whatif_schemas import Application, Recourse, WhatIf

M = TypeVar("M", bound=BaseModel)


class WhatIfSource(Protocol):
    def application(self, sk_id_curr: int) -> Application: ...
    def what_if(self, sk_id_curr: int, edits: dict[str, Any]) -> WhatIf: ...
    def recourse(self, sk_id_curr: int, edits: dict[str, Any] | None = None) -> Recourse: ...


class HttpWhatIf:
    """`WhatIfSource` over the lookup API, on the dashboard's HttpSource client."""

    def __init__(self, source: HttpSource) -> None:
        self._source = source

    def _call(self, model: type[M], method: str, path: str, body: Any = None) -> M:
        try:
            response = self._source._client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise WarehouseUnavailable(f"lookup API unreachable: {exc}") from exc
        errors = {404: ClientNotFound, 422: InvalidRequest, 503: WarehouseUnavailable}
        if response.status_code in errors:
            raise errors[response.status_code](_detail(response))
        response.raise_for_status()
        return model.model_validate(response.json())

    def application(self, sk_id_curr: int) -> Application:
        return self._call(Application, "GET", f"/clients/{int(sk_id_curr)}/application")

    def what_if(self, sk_id_curr: int, edits: dict[str, Any]) -> WhatIf:
        return self._call(WhatIf, "POST", f"/clients/{int(sk_id_curr)}/what-if",
                          {"edits": edits})

    def recourse(self, sk_id_curr: int, edits: dict[str, Any] | None = None) -> Recourse:
        if edits is None:
            return self._call(Recourse, "GET", f"/clients/{int(sk_id_curr)}/recourse")
        return self._call(Recourse, "POST", f"/clients/{int(sk_id_curr)}/recourse",
                          {"edits": edits})


# one WhatIfLookup per Lookup: the dashboard's sessions share its coalescing thread
_SHARED: weakref.WeakKeyDictionary[Lookup, WhatIfLookup] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def whatif_source(source: DataSource) -> WhatIfSource:
    if isinstance(source, Lookup):
        with _SHARED_LOCK:
            if source not in _SHARED:
                _SHARED[source] = WhatIfLookup(source)
            return _SHARED[source]
    if isinstance(source, HttpSource):
        return HttpWhatIf(source)
    raise TypeError(f"no what-if source for {type(source).__name__}")
