"""The base of every advisor page: render only when what the page shows has changed."""
from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from dashboard.formatting import guarded
from dashboard.source import DataSource
from dashboard.texts import Texts


class Page(Viewer):
    """A page that renders itself when its client changes (only the visible page does)."""

    client_id = param.Integer(default=None, allow_None=True)

    def __init__(self, source: DataSource, tr: Texts, **params: Any) -> None:
        super().__init__(**params)
        self._source = source
        self.tr = tr
        self._body = pn.Column(sizing_mode="stretch_width")
        self._rendered_for: tuple[Any, ...] | None = None

    def state(self) -> tuple[Any, ...]:
        """What the page shows; it re-renders only when this changes."""
        return (self.client_id,)

    def refresh(self) -> None:
        if self.state() == self._rendered_for:
            return
        self._body.objects = [guarded(self.render, self.tr, self.client_id)]
        # after the render: a first render may fill in defaults (e.g. the features shown)
        self._rendered_for = self.state()

    def render(self) -> pn.viewable.Viewable:
        raise NotImplementedError

    def __panel__(self) -> pn.viewable.Viewable:
        return self._body


