"""The what-if and recourse routes (CONTRACTS §6), included by dashboard/api.py.

`POST /clients/{id}/what-if` scores an edited application; `GET /clients/{id}/recourse` gives
the options of the published application (precomputed for refused pending clients),
`POST /clients/{id}/recourse` those of an edited one; `GET /clients/{id}/application` is the
published application the edits start from (the dashboard's what-if form in --api mode).
Read-only: nothing is stored. Errors as every route: 404 unknown client, 422 an unknown or
out-of-range field (named), 503 no warehouse.
"""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from dashboard.api_common import NOT_FOUND, ClientId, json_response
from dashboard.api_language import current_language, localized
from dashboard.lookup import Lookup
from dashboard.whatif_lookup import WhatIfLookup
from dashboard.whatif_schemas import Application, Recourse, WhatIf, WhatIfRequest, edits_dict


def whatif_router(lookup: Lookup) -> APIRouter:
    whatif = WhatIfLookup(lookup, in_memory=True)
    # a warmed API (PAD_API_WARM) also loads the what-if model and published features
    lookup.also_warm(whatif.warm)
    router = APIRouter(tags=["what-if"], responses=NOT_FOUND)

    @router.post("/clients/{sk_id_curr}/what-if", response_model=WhatIf)
    def what_if(sk_id_curr: ClientId, body: WhatIfRequest) -> Response:
        """The application with the edits applied, scored and explained by the champion as the
        batch does — a simulation, not a decision; nothing is stored."""
        return json_response(localized(whatif.what_if(sk_id_curr, edits_dict(body.edits)),
                                       current_language()))

    @router.get("/clients/{sk_id_curr}/recourse", response_model=Recourse)
    def recourse(sk_id_curr: ClientId) -> Response:
        """What it would take: up to 3 one-lever changes that turn the refusal into a grant."""
        return json_response(whatif.recourse(sk_id_curr, lang=current_language()))

    @router.post("/clients/{sk_id_curr}/recourse", response_model=Recourse)
    def recourse_edited(sk_id_curr: ClientId, body: WhatIfRequest) -> Response:
        """The options of an edited application (edits as for /what-if)."""
        return json_response(whatif.recourse(sk_id_curr, edits_dict(body.edits),
                                             lang=current_language()))

    @router.get("/clients/{sk_id_curr}/application", response_model=Application)
    def application(sk_id_curr: ClientId) -> Response:
        """The editable application fields as published (what a what-if starts from)."""
        return json_response(whatif.application(sk_id_curr))

    return router
