"""Logging in and out, and the account page that login leads to."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from outreach.accounts.forms import LoginForm
from outreach.extensions import limiter
from outreach.services.users import authenticate
from outreach.urls import is_local_path

bp = Blueprint("accounts", __name__)


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _next_page() -> str:
    target = request.args.get("next", "")
    return target if is_local_path(target) else url_for("accounts.account")


def _render_login(form: LoginForm, status: int = 200):
    next_arg = request.args.get("next", "")
    return (
        render_template(
            "accounts/login.html",
            form=form,
            next=next_arg if is_local_path(next_arg) else None,
        ),
        status,
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], scope="login")
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_next_page())
    form = LoginForm()
    if not form.is_submitted():
        return _render_login(form)
    if not form.validate():
        return _render_login(form, status=422)
    user = authenticate(form.email.data or "", form.password.data or "")
    if user is None:
        form.refuse()
        return _render_login(form, status=401)
    # A new session for the new user: nothing from before the login carries over.
    session.clear()
    login_user(user, remember=form.remember.data is True)
    return redirect(_next_page(), code=303)


@bp.post("/logout")
def logout():
    session.clear()
    logout_user()  # after clear(): it marks the remember-me cookie for deletion
    flash(_("You are logged out."), "success")
    return redirect(url_for("public.events"), code=303)


@bp.get("/account")
@login_required
def account():
    return render_template("accounts/account.html", user=current_user)
