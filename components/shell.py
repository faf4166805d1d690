"""The app shell: navigation built from ``dash.page_registry``, theme switch, page container."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

NAV_GROUP_ORDER = ("Operations", "Analysis", "Reports", "Admin")
SHELL_IDS = {"theme": "shell-theme", "theme_switch": "shell-theme-switch", "url": "shell-url"}


def nav_groups(registry: dict[str, dict[str, Any]] | None = None) -> "OrderedDict[str, list[dict[str, Any]]]":
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
    try:
        from flask import has_request_context

        from security.access import current_caller
        from security.guard import page_allows
    except ModuleNotFoundError:
        return registry
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


def _user_menu() -> Any:
    """Return the signed-in user's menu (security.web), or nothing when sign-in is not installed."""
    try:
        from security.web import user_menu
    except ModuleNotFoundError:
        return None
    return user_menu()


def build_shell() -> html.Div:
    """Return the layout wrapping every page (called per page load, so the nav is current)."""
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
                                html.Div(_user_menu(), id="shell-user", className="d-flex align-items-center me-3 small"),
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
            dbc.Container(dash.page_container, fluid=True, className="pb-4"),
        ],
        className="shell",
    )
