"""Shell callbacks: theme switch (clientside, persisted in local storage) and navbar toggler."""
from __future__ import annotations

from dash import Dash, Input, Output, State

from components.shell import SHELL_IDS


def toggle_collapse(n_clicks: int | None, is_open: bool) -> bool:
    """Return the new open state of the collapsed navbar."""
    return (not is_open) if n_clicks else is_open


def register(app: Dash) -> None:
    """Attach the shell callbacks to ``app``."""
    app.clientside_callback(
        """
        function(dark, stored) {
            const ctx = window.dash_clientside.callback_context;
            let theme = stored || 'light';
            if (ctx.triggered.length && ctx.triggered[0].prop_id.startsWith('shell-theme-switch')) {
                theme = dark ? 'dark' : 'light';
            }
            document.documentElement.setAttribute('data-bs-theme', theme);
            document.body.setAttribute('data-ag-theme-mode', theme);
            return [theme, theme === 'dark'];
        }
        """,
        Output(SHELL_IDS["theme"], "data"),
        Output(SHELL_IDS["theme_switch"], "value"),
        Input(SHELL_IDS["theme_switch"], "value"),
        State(SHELL_IDS["theme"], "data"),
    )
    app.callback(
        Output("shell-nav-collapse", "is_open"),
        Input("shell-nav-toggler", "n_clicks"),
        State("shell-nav-collapse", "is_open"),
    )(toggle_collapse)
