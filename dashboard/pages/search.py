"""Finding a client: by typed id or by its first digits (server-side prefix search)."""
from __future__ import annotations

import html
from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from dashboard.lookup import InvalidRequest, WarehouseUnavailable
from dashboard.schemas import ClientPage
from dashboard.source import DataSource
from dashboard.texts import N_, Texts

SUGGESTIONS = 8
TYPE_DIGITS = N_("Type the digits of a client id.")


class ClientSearch(Viewer):
    """Find a client by typed id or by its first digits (server-side prefix search)."""

    client_id = param.Integer(default=None, allow_None=True, doc="the client picked")
    status = param.String(default="", doc="what the search found, in words")

    def __init__(self, source: DataSource, tr: Texts, **params: Any) -> None:
        super().__init__(**params)
        self._source, self.tr = source, tr
        self._input = pn.widgets.TextInput(
            name=tr._("Find a client"), placeholder=tr._("Client id or its first digits, e.g. "
                                                         "1001"), max_length=19, width=320)
        self._open = pn.widgets.Button(name=tr._("Open"), button_type="primary", width=80,
                                       align="end")
        self._suggestions = pn.Row(sizing_mode="stretch_width")
        self._status = pn.pane.HTML("", sizing_mode="stretch_width")
        self._input.param.watch(lambda e: self.suggest(e.new), "value_input")
        self._input.param.watch(lambda e: self.open(self._input.value_input), "enter_pressed")
        self._open.on_click(lambda e: self.open(self._input.value_input))

    @param.depends("status", watch=True)
    def _show_status(self) -> None:
        self._status.object = (f"<span class='pad-muted' data-testid='search-status'>"
                               f"{html.escape(self.status)}</span>")

    def suggest(self, text: str | None) -> None:
        """Up to 8 ids starting with the typed digits, as buttons."""
        text = (text or "").strip()
        if self.client_id is not None and text == str(self.client_id):
            return  # the id of the client just opened, not a new search
        if not text.isdigit() or not text.isascii():
            self._suggestions.objects = []
            self.status = self.tr._(TYPE_DIGITS) if text else ""
            return
        page = self._search(text)
        if page is None:
            return
        buttons = []
        for item in page.items:
            label = f"{item.sk_id_curr} · {self.tr.decision(item.decision)}"
            button = pn.widgets.Button(name=label, button_type="light", width=170)
            button.on_click(lambda e, cid=item.sk_id_curr: self.pick(cid))
            buttons.append(button)
        self._suggestions.objects = buttons
        more = page.total - len(page.items)
        tr = self.tr
        self.status = (tr._("No client id starts with {digits}.", digits=text)
                       if page.total == 0 else
                       tr.ngettext("{count} client starts with {digits}",
                                   "{count} clients start with {digits}", page.total,
                                   count=tr.number(page.total), digits=text)
                       + (tr._(" ({more} more: type more digits).", more=tr.number(more))
                          if more > 0 else "."))

    def _search(self, text: str) -> ClientPage | None:
        """The first ids starting with `text`; None (and the reason shown) on failure."""
        try:
            return self._source.search_clients(q=text, limit=SUGGESTIONS)
        except WarehouseUnavailable:
            self.status = self.tr._("The published data cannot be read yet.")
            return None
        except InvalidRequest:
            self.status = self.tr._(TYPE_DIGITS)
            return None

    def open(self, text: str | None) -> None:
        """Open the client with exactly this id, or the only one starting with it."""
        text = (text or "").strip()
        if not text.isdigit() or not text.isascii():
            self.status = self.tr._(TYPE_DIGITS)
            return
        page = self._search(text)
        if page is None:
            return
        exact = [i for i in page.items if i.sk_id_curr == int(text)]
        if exact or page.total == 1:
            self.pick((exact or page.items)[0].sk_id_curr)
        else:
            self.suggest(text)

    def pick(self, sk_id_curr: int) -> None:
        # the id first: writing it into the field below must not trigger a new search
        self.client_id = sk_id_curr
        self._suggestions.objects = []
        self.status = ""
        self._input.param.update(value=str(sk_id_curr), value_input=str(sk_id_curr))

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.Row(self._input, self._open), self._suggestions, self._status,
                         sizing_mode="stretch_width")


