"""The dashboard: one static site over every model of an MLMD store.

`build_dashboard(store, output_dir)` reads the store once (`snapshot`), makes a row per
model with its flags (`overview`), and writes `index.html` and a page per model
(`site`, drawings in `graphs`, card pages in `card_pages`). The site needs no server
and no network. It may import `governance`, `assembly`, `mlmd`, `render`, `card` and
the leaf modules.
"""

from __future__ import annotations

from mct_component.dashboard.overview import FLAGS, ModelRow
from mct_component.dashboard.site import DashboardSummary, build_dashboard

__all__ = ["FLAGS", "DashboardSummary", "ModelRow", "build_dashboard"]
