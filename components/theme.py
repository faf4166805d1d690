"""Figure styling that follows the light/dark theme, and the status/kind palettes."""
from __future__ import annotations

import plotly.graph_objects as go

from domain.status import STATUSES

_STATUS_PALETTE = {"producing": "#2e9e5b", "idle": "#6c8ebf", "stale": "#9a6fb0", "offline": "#6c757d", "no data": "#adb5bd"}
# one colour per status the domain produces (domain.status), in its order; a new status fails here
STATUS_COLORS = {s: _STATUS_PALETTE[s] for s in STATUSES}
KIND_COLORS = {"solar": "#f2b705", "wind": "#2f7ed8", "storage": "#8e44ad", "hybrid": "#16a085", "substation": "#7f8c8d"}
KIND_ICONS = {"solar": "bi-sun", "wind": "bi-wind", "storage": "bi-battery-half", "hybrid": "bi-intersect",
              "substation": "bi-diagram-3"}


def style_figure(fig: go.Figure, theme: str | None = "light", height: int | None = None) -> go.Figure:
    """Return ``fig`` with the app's template for ``theme`` ('light' or 'dark') applied."""
    fig.update_layout(
        template="plotly_dark" if theme == "dark" else "plotly_white",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": 48, "r": 16, "t": 36, "b": 40},
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12},
        legend={"orientation": "h", "y": -0.18},
    )
    if height:
        fig.update_layout(height=height)
    return fig
