"""Server-side role checks for Dash pages and callbacks.

Pages declare ``min_role=`` in ``dash.register_page``; a page without a valid one is admin-only
(deny by default). :func:`guard_page_layouts` wraps every page's ``layout`` so that it renders a
"not allowed" panel, without reading any data, for a caller below the page's role.

A server callback (``POST /_dash-update-component``) belongs to the page whose module defined it:
``pages.<name>`` or ``callbacks.<name>`` -> the page module ``<name>``. Callbacks of
``callbacks.shell``/``components.*`` and Dash's own page router are open to any signed-in caller
(the router renders through the guarded layouts). Anything else is admin-only unless its module
is declared with :func:`register_callback_owner` (e.g. ``register_callback_owner("live.panels",
"viewer")``) or the page declares ``id_prefix="fc-"`` and every output id starts with it.
"""
from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from data.models import Role
from security.access import Caller, current_caller, role_at_least

log = logging.getLogger(__name__)

ANY_SIGNED_IN = "any"
OPEN_CALLBACK_MODULES = ("callbacks.shell", "components.", "dash.", "dash_")
CALLBACK_OWNERS: dict[str, str] = {}  # module (or module prefix ending in '.') -> min role or ANY_SIGNED_IN


def register_callback_owner(module: str, min_role: Role | str) -> None:
    """Declare the minimum role for server callbacks defined in ``module`` (not a page module)."""
    CALLBACK_OWNERS[module] = ANY_SIGNED_IN if min_role == ANY_SIGNED_IN else Role(min_role).value


def page_min_role(page: dict[str, Any]) -> Role | None:
    """Return the page's declared minimum role, or None when missing or invalid (admin-only)."""
    try:
        return Role(page.get("min_role"))
    except ValueError:
        return None


def page_allows(page: dict[str, Any], caller: Caller | None) -> bool:
    """Return True if ``caller`` may open ``page`` (pages without a min_role: admins only)."""
    if caller is None:
        return False
    minimum = page_min_role(page) or Role.admin
    return role_at_least(caller.role, minimum)


def page_for_path(pathname: str | None) -> dict[str, Any] | None:
    """Return the page-registry entry serving ``pathname`` (e.g. "/sites/x"), or None."""
    from dash._pages import _path_to_page

    path = (pathname or "/").split("?", 1)[0].strip("/")
    page, _vars = _path_to_page(path)
    return page or None


def _module_basename(module: str) -> str:
    return module.rsplit(".", 1)[-1]


def denial_panel(page: dict[str, Any], caller: Caller | None) -> html.Div:
    """Return the panel shown instead of a page the caller may not open."""
    minimum = (page_min_role(page) or Role.admin).value
    if caller is None:
        body = [html.P("Your session has ended. Please sign in again."),
                html.A("Sign in", href="/login", className="btn btn-primary btn-sm")]
    else:
        body = [html.P(f"The page '{page.get('name', '')}' needs the role '{minimum}' or higher; you are signed in "
                       f"as '{caller.role.value}'."), dcc.Link("Back to the start page", href="/")]
    return html.Div(dbc.Alert([html.H4("Not allowed", className="alert-heading"), *body], color="danger"),
                    id="sec-denied")


def _guard(layout: Any, page: dict[str, Any]) -> Callable[..., Any]:
    @functools.wraps(layout) if callable(layout) else (lambda f: f)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        from flask import has_request_context

        caller = current_caller() if has_request_context() else None
        if not page_allows(page, caller):
            return denial_panel(page, caller)
        return layout(*args, **kwargs) if callable(layout) else layout

    guarded.fleetlight_guarded = True  # type: ignore[attr-defined]
    return guarded


def guard_page_layouts() -> int:
    """Wrap every registered page's layout with the role check; return how many were wrapped."""
    wrapped = 0
    for page in dash.page_registry.values():
        layout = page.get("layout")
        if getattr(layout, "fleetlight_guarded", False):
            continue
        page["layout"] = _guard(layout, page)
        wrapped += 1
    return wrapped


class CallbackRoles:
    """Maps each server callback of a Dash app to the minimum role allowed to run it."""

    def __init__(self, app: dash.Dash) -> None:
        self.app = app
        self._cache: dict[str, str] = {}

    def _pages_by_module(self) -> dict[str, dict[str, Any]]:
        return {_module_basename(module): page for module, page in dash.page_registry.items()}

    def min_role_for_module(self, module: str, output_ids: list[str]) -> str:
        """Return the min role (value) or ANY_SIGNED_IN for a callback defined in ``module``."""
        for owner, role in CALLBACK_OWNERS.items():
            if module == owner or (owner.endswith(".") and module.startswith(owner)):
                return role
        if module.startswith(OPEN_CALLBACK_MODULES) or module in OPEN_CALLBACK_MODULES:
            return ANY_SIGNED_IN
        pages = self._pages_by_module()
        head, _, base = module.rpartition(".")
        if head.split(".")[-1] in ("pages", "callbacks") and base in pages:
            return (page_min_role(pages[base]) or Role.admin).value
        for page in dash.page_registry.values():
            prefix = page.get("id_prefix")
            if prefix and output_ids and all(i.startswith(prefix) for i in output_ids):
                return (page_min_role(page) or Role.admin).value
        return Role.admin.value

    def min_role(self, output_key: str) -> str | None:
        """Return the min role for the callback keyed ``output_key``; None if there is no such callback."""
        if output_key in self._cache:
            return self._cache[output_key]
        spec = self.app.callback_map.get(output_key)
        if spec is None:
            from dash import _callback

            spec = _callback.GLOBAL_CALLBACK_MAP.get(output_key)
        if spec is None or "callback" not in spec:
            return None
        func = spec["callback"]
        module = getattr(func, "__module__", "") or ""
        role = self.min_role_for_module(module, output_ids_of(output_key))
        self._cache[output_key] = role
        return role

    def allows(self, output_key: str, caller: Caller | None) -> bool | None:
        """Return True/False for ``caller`` running the callback; None when the callback is unknown."""
        role = self.min_role(output_key)
        if role is None:
            return None
        if caller is None:
            return False
        return role == ANY_SIGNED_IN or role_at_least(caller.role, role)


def output_ids_of(output_key: str) -> list[str]:
    """Return the component ids in a Dash callback output key ("..a.children...b.value.." or "a.value")."""
    key = output_key[2:-2] if output_key.startswith("..") and output_key.endswith("..") else output_key
    ids = []
    for part in key.split("..."):
        comp = part.rsplit(".", 1)[0] if "." in part else part
        if comp.startswith("{"):
            try:
                comp = json.dumps(json.loads(comp), sort_keys=True)
            except ValueError:
                pass
        ids.append(comp)
    return ids
