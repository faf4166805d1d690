"""The few server-rendered HTML pages of the security package (sign-in, forbidden, messages).

Plain HTML styled by the app's vendored Bootstrap; no inline script, so the strict CSP holds.
"""
from __future__ import annotations

from flask import render_template_string

_BASE = """<!doctype html>
<html lang="en" data-bs-theme="light"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · Fleetlight</title>
<link rel="stylesheet" href="/assets/vendor/00-bootstrap.min.css">
<link rel="stylesheet" href="/assets/vendor/01-bootstrap-icons.min.css">
</head><body class="bg-body-tertiary">
<main class="container" style="max-width: 420px; margin-top: 12vh">
<div class="text-center mb-4"><span class="fs-3 fw-semibold">
<i class="bi bi-lightning-charge-fill text-warning"></i> Fleetlight</span></div>
<div class="card shadow-sm"><div class="card-body p-4">{{ body|safe }}</div></div>
</main></body></html>"""

_LOGIN = """<h1 class="h5 mb-3">Sign in</h1>
{% if message %}<div class="alert alert-{{ level }} py-2 small" id="login-message" role="alert">{{ message }}</div>{% endif %}
<form method="post" action="/login" autocomplete="on">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ next }}">
<div class="mb-3"><label class="form-label" for="login-username">Username</label>
<input class="form-control" id="login-username" name="username" autocomplete="username" required maxlength="100"
 value="{{ username }}" autofocus></div>
<div class="mb-3"><label class="form-label" for="login-password">Password</label>
<input class="form-control" id="login-password" name="password" type="password" autocomplete="current-password"
 required maxlength="1024"></div>
<button class="btn btn-primary w-100" id="login-submit" type="submit">Sign in</button>
</form>
<p class="small text-body-secondary mt-3 mb-0">After {{ max_failures }} failed attempts an account is locked for
{{ lockout }} minutes.</p>
{% if first_run %}<p class="small mt-2 mb-0"><a href="/setup" id="login-first-run">No account yet? Create the first
administrator</a> (from this machine).</p>{% endif %}"""

_SETUP = """<h1 class="h5 mb-2">Create the first administrator</h1>
<p class="small text-body-secondary">No account exists yet. This form is open only from this machine and only
until the first account is created; later accounts are made on the admin page.</p>
{% if message %}<div class="alert alert-danger py-2 small" id="setup-message" role="alert">{{ message }}</div>{% endif %}
<form method="post" action="/setup" autocomplete="off">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<div class="mb-3"><label class="form-label" for="setup-username">Username</label>
<input class="form-control" id="setup-username" name="username" required maxlength="100" value="{{ username }}" autofocus></div>
<div class="mb-3"><label class="form-label" for="setup-password">Password</label>
<input class="form-control" id="setup-password" name="password" type="password" autocomplete="new-password" required
 maxlength="1024"></div>
<div class="mb-3"><label class="form-label" for="setup-confirm">Repeat the password</label>
<input class="form-control" id="setup-confirm" name="confirm" type="password" autocomplete="new-password" required
 maxlength="1024"></div>
<button class="btn btn-primary w-100" id="setup-submit" type="submit">Create administrator and sign in</button>
</form>"""

_MESSAGE = """<h1 class="h5 mb-3">{{ heading }}</h1><p>{{ text }}</p>
{% if link %}<a class="btn btn-outline-primary btn-sm" href="{{ link }}">{{ link_text }}</a>{% endif %}"""


def page(title: str, body: str) -> str:
    """Return a full HTML page with ``body`` (already-rendered HTML) in the card."""
    return render_template_string(_BASE, title=title, body=body)


def login_page(csrf: str, next_url: str, message: str = "", level: str = "danger", username: str = "",
               max_failures: int = 5, lockout: int = 15, first_run: bool = False) -> str:
    """Return the sign-in page (with a link to the first-run setup while no account exists)."""
    body = render_template_string(_LOGIN, csrf=csrf, next=next_url, message=message, level=level, username=username,
                                  max_failures=max_failures, lockout=lockout, first_run=first_run)
    return page("Sign in", body)


def setup_page(csrf: str, message: str = "", username: str = "") -> str:
    """Return the first-run page that creates the first administrator."""
    return page("First run", render_template_string(_SETUP, csrf=csrf, message=message, username=username))


def message_page(title: str, heading: str, text: str, link: str = "", link_text: str = "") -> str:
    """Return a page with one message and an optional link."""
    return page(title, render_template_string(_MESSAGE, heading=heading, text=text, link=link, link_text=link_text))
