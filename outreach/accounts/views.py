"""Logging in and out, and the account page that login leads to."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from outreach.accounts.forms import (
    CreateTokenForm,
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
    RevokeTokenForm,
)
from outreach.extensions import limiter
from outreach.models import DEFAULT_TIMEZONE, ApiToken, User
from outreach.policy import member_required
from outreach.services import account_links, api_tokens
from outreach.services.errors import InvalidInput
from outreach.services.users import authenticate
from outreach.urls import is_local_path

bp = Blueprint("accounts", __name__)


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _password_reset_limit() -> str:
    return current_app.config["RATELIMIT_PASSWORD_RESET"]


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


# -- forgotten passwords and invitations ------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_password_reset_limit, methods=["POST"], scope="password-forgot")
def forgot_password():
    form = ForgotPasswordForm()
    if not form.is_submitted():
        return render_template("accounts/forgot_password.html", form=form)
    if form.filled_by_a_robot():
        # Dropped without a word: the robot sees what a person would.
        return render_template("accounts/forgot_password.html", form=None, sent=True)
    if not form.validate():
        return render_template("accounts/forgot_password.html", form=form), 422
    # The same answer whether or not the address has an account.
    account_links.request_password_reset(form.email.data or "")
    return render_template("accounts/forgot_password.html", form=None, sent=True)


# The link's token is in the address: no cache keeps the page, no other site learns it.
PRIVATE_PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _invalid_link():
    return render_template("accounts/link_invalid.html"), 404, PRIVATE_PAGE_HEADERS


def _set_password_page(user: User, form: NewPasswordForm, *, invitation: bool, status: int = 200):
    return (
        render_template("accounts/set_password.html", form=form, user=user, invitation=invitation),
        status,
        PRIVATE_PAGE_HEADERS,
    )


def _choose_password(token: str, purpose: str):
    """Show the form for a valid link; on a valid POST, set the password and return the user."""
    invitation = purpose == account_links.INVITATION
    user = account_links.verify_link_token(token, purpose)
    if user is None:
        return None, _invalid_link()
    form = NewPasswordForm()
    if not form.is_submitted():
        return None, _set_password_page(user, form, invitation=invitation)
    if not form.validate():
        return None, _set_password_page(user, form, invitation=invitation, status=422)
    try:
        set_password = (
            account_links.accept_invitation if invitation else account_links.reset_password
        )
        user = set_password(token, form.password.data or "")
    except InvalidInput as error:
        form.password.errors = [*form.password.errors, *error.errors.values()]
        return None, _set_password_page(user, form, invitation=invitation, status=422)
    except account_links.LinkInvalid:
        return None, _invalid_link()
    return user, None


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user, response = _choose_password(token, account_links.RESET)
    if user is None:
        return response
    flash(_("Your password is changed. Please log in with the new one."), "success")
    return redirect(url_for("accounts.login"), code=303)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    user, response = _choose_password(token, account_links.INVITATION)
    if user is None:
        return response
    session.clear()
    login_user(user)
    flash(_("Welcome! Your password is saved."), "success")
    return redirect(url_for("accounts.account"), code=303)


# -- API tokens ----------------------------------------------------------------------


def _local_time(value: datetime) -> str:
    """A token's moment in the organisation's zone, in the reader's language."""
    return format_datetime(
        value.astimezone(ZoneInfo(DEFAULT_TIMEZONE)), "medium", locale=str(get_locale())
    )


def _tokens_page(
    form: CreateTokenForm,
    *,
    status: int = 200,
    new_token: ApiToken | None = None,
    secret: str | None = None,
):
    html = render_template(
        "accounts/tokens.html",
        form=form,
        tokens=api_tokens.tokens_of(current_user),
        new_token=new_token,
        secret=secret,
        local_time=_local_time,
    )
    # The page may show a secret: no cache keeps a copy of it.
    return html, status, {"Cache-Control": "no-store"}


@bp.route("/account/tokens", methods=["GET", "POST"])
@member_required
def tokens():
    form = CreateTokenForm()
    if not form.is_submitted():
        return _tokens_page(form)
    if not form.validate():
        return _tokens_page(form, status=422)
    try:
        token, secret = api_tokens.create_token(
            current_user._get_current_object(), form.name.data or ""
        )
    except InvalidInput as error:
        form.name.errors = [*form.name.errors, *error.errors.values()]
        return _tokens_page(form, status=422)
    except api_tokens.TokenNotAllowed:
        abort(403)
    return _tokens_page(CreateTokenForm(formdata=None), new_token=token, secret=secret)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@member_required
def revoke_token(token_id: int):
    token = api_tokens.token_of(current_user, token_id)
    if token is None:
        abort(404)
    form = RevokeTokenForm()
    if not form.validate_on_submit():
        return render_template(
            "accounts/revoke_token.html", form=form, token=token, local_time=_local_time
        )
    api_tokens.revoke_token(token, by=current_user._get_current_object())
    flash(_("The token “%(name)s” is revoked.", name=token.name), "success")
    return redirect(url_for("accounts.tokens"), code=303)
