"""The app shell: navigation built from ``dash.page_registry``, theme switch, page container."""
from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import has_request_context

from security.access import current_caller
from security.guard import page_allows

NAV_GROUP_ORDER = ("Operations", "Analysis", "Reports", "Admin")
SHELL_IDS = {"theme": "shell-theme", "theme_switch": "shell-theme-switch", "url": "shell-url"}


def nav_groups(registry: dict[str, dict[str, Any]] | None = None) -> OrderedDict[str, list[dict[str, Any]]]:
    """Return the visible pages grouped by their ``nav_group`` key, ordered by group then ``order``."""
    registry = dash.page_registry if registry is None else registry
    groups: dict[str, list[dict[str, Any]]] = {}
    for page in registry.values():
        if page.get("nav_hidden") or "<" in page.get("path", ""):
            continue
        groups.setdefault(page.get("nav_group", "Operations"), []).append(page)
    ordered = OrderedDict()
    for group in sorted(groups, key=lambda g: (NAV_GROUP_ORDER.index(g) if g in NAV_GROUP_ORDER else 99, g)):
        ordered[group] = sorted(groups[group], key=lambda p: (p.get("order") or 0, p["name"]))
    return ordered


def _visible(registry: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]] | None:
    """Return the registry without the pages the signed-in caller may not open (the server denies them anyway)."""
    if not has_request_context():
        return registry
    caller = current_caller()
    source = dash.page_registry if registry is None else registry
    return {k: p for k, p in source.items() if page_allows(p, caller)}


def _nav(registry: dict[str, dict[str, Any]] | None = None) -> list[Any]:
    items: list[Any] = []
    for group, pages in nav_groups(_visible(registry)).items():
        if len(pages) == 1:
            page = pages[0]
            items.append(dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"], active="exact")))
            continue
        items.append(
            dbc.DropdownMenu(
                [dbc.DropdownMenuItem(p["name"], href=p["relative_path"]) for p in pages],
                label=group, nav=True, in_navbar=True, id=f"shell-nav-{group.lower()}",
            )
        )
    return items


def _first_page() -> tuple[str, str, str, Any, Any] | None:
    """Return (href, pathname, search, layout, title) of the page the browser is opening, or None.

    Only for Dash's first ``/_dash-layout`` request of a page load, whose ``Referer`` names the page
    (same origin; the app sends ``Referrer-Policy: same-origin``). The layout comes from the page
    registry entry as Dash's router would call it (path variables, query parameters), so the
    security guard wrapped around it applies unchanged. None (Dash's router then fills the page
    after the shell has rendered, one round trip later) for anything unusual.
    """
    from urllib.parse import urlsplit

    from flask import has_request_context, request

    if not has_request_context() or not request.path.endswith("/_dash-layout") or not request.referrer:
        return None
    ref = urlsplit(request.referrer)
    app = dash.get_app()
    if ref.netloc != request.host or getattr(app, "routing_callback_inputs", None):
        return None
    from dash._pages import _parse_query_string, _path_to_page

    search = f"?{ref.query}" if ref.query else ""
    page, path_variables = _path_to_page(app.strip_relative_path(ref.path))
    if not page:
        return None  # Dash's router renders its 404
    layout = page.get("layout", "")
    if callable(layout):
        layout = layout(**{**(path_variables or {}), **_parse_query_string(search)})
    title = page["title"](**(path_variables or {})) if callable(page["title"]) else page["title"]
    href = ref._replace(fragment="").geturl()
    return href, ref.path, search, layout, title


def page_container() -> Any:
    """Return Dash's page container, with the page being opened already rendered in it when known.

    Dash's router fills the container by a callback once the shell has rendered and its
    ``dcc.Location`` has reported the path: a second round trip and a second render before any page
    shows. Here the first layout already carries the page, and the Location's props already equal
    the browser's location, so the Location reports nothing and the router does not run again;
    later navigation goes through the router as usual.
    """
    try:
        first = _first_page()
    except Exception:
        logging.getLogger(__name__).exception("pre-rendering the first page failed; using Dash's router")
        first = None
    if first is None:
        return dash.page_container
    href, pathname, search, layout, title = first
    location, content, store, dummy = dash.page_container.children
    return html.Div([
        dcc.Location(id=location.id, refresh=location.refresh, href=href, pathname=pathname, search=search, hash=""),
        html.Div(layout, id=content.id, disable_n_clicks=True),
        dcc.Store(id=store.id, data={"title": title}),
        dummy,
    ])


def shell_layout(user_menu: Callable[[], Any] | None = None) -> Callable[[], html.Div]:
    """Return the app layout function: :func:`build_shell` with the injected ``user_menu`` builder."""

    def layout() -> html.Div:
        return build_shell(user_menu)

    return layout


def build_shell(user_menu: Callable[[], Any] | None = None) -> html.Div:
    """Return the layout wrapping every page (called per page load, so the nav is current).

    ``user_menu`` returns the signed-in caller's menu (``security.web.user_menu``); None shows none.
    """
    return html.Div(
        [
            dcc.Location(id=SHELL_IDS["url"]),
            dcc.Store(id=SHELL_IDS["theme"], storage_type="local", data="light"),
            dbc.Navbar(
                dbc.Container(
                    [
                        dbc.NavbarBrand(
                            [html.I(className="bi bi-lightning-charge-fill me-2 text-warning"), "Fleetlight"],
                            href="/", className="fw-semibold",
                        ),
                        dbc.NavbarToggler(id="shell-nav-toggler"),
                        dbc.Collapse(
                            [
                                dbc.Nav(_nav(), navbar=True, className="me-auto"),
                                html.Div(user_menu() if user_menu else None, id="shell-user", className="d-flex align-items-center me-3 small"),
                                html.Div(
                                    [
                                        html.I(className="bi bi-sun me-1"),
                                        dbc.Switch(id=SHELL_IDS["theme_switch"], value=False, className="d-inline-block ms-1 mb-0"),
                                        html.I(className="bi bi-moon-stars"),
                                    ],
                                    className="d-flex align-items-center text-light", title="Dark mode",
                                ),
                            ],
                            id="shell-nav-collapse", navbar=True, is_open=False,
                        ),
                    ],
                    fluid=True,
                ),
                color="dark", dark=True, className="shell-navbar mb-3", sticky="top",
            ),
            dbc.Container(page_container(), fluid=True, className="pb-4"),
        ],
        className="shell",
    )
