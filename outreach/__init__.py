"""Outreach: events, registrations, calendars and mail for a diaspora network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from config import BASE_DIR, Config, config_from_env
from outreach import extensions as ext
from outreach import models  # noqa: F401  (puts every table on db.metadata)
from outreach.accounts.views import bp as accounts_bp
from outreach.api.views import bp as api_bp
from outreach.applications.views import bp as applications_bp
from outreach.calendar.views import bp as calendar_bp
from outreach.cli import outreach_cli
from outreach.consent.views import bp as consent_bp
from outreach.database import configure_engine
from outreach.desk.views import bp as desk_bp
from outreach.dev.views import bp as dev_bp
from outreach.errors import register_error_handlers
from outreach.hooks.views import bp as hooks_bp
from outreach.i18n import select_locale
from outreach.manage.views import bp as manage_bp
from outreach.newsletter.views import bp as newsletter_bp
from outreach.partner.contributions import bp as contributions_bp
from outreach.partner.views import bp as partner_bp
from outreach.privacy.views import bp as privacy_bp
from outreach.public.views import bp as public_bp
from outreach.security import init_security
from outreach.services.users import user_by_id
from outreach.staff.campaigns import bp as staff_campaigns_bp
from outreach.staff.newsletter import bp as staff_newsletter_bp
from outreach.staff.privacy import bp as staff_privacy_bp
from outreach.staff.views import bp as staff_bp
from outreach.templating import register_template_helpers
from outreach.unsubscribe.views import bp as unsubscribe_bp


def create_app(config: type[Config] | None = None, **overrides: Any) -> Flask:
    """Build the application; ``overrides`` replace single configuration values."""
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        instance_path=str(BASE_DIR / "instance"),
    )
    app.config.from_object(config or config_from_env())
    app.config.update(overrides)
    Path(app.instance_path).mkdir(exist_ok=True)
    init_security(app)

    _init_extensions(app)
    _register_blueprints(app)
    register_error_handlers(app)
    register_template_helpers(app)
    app.cli.add_command(outreach_cli)
    return app


def _init_extensions(app: Flask) -> None:
    ext.db.init_app(app)
    with app.app_context():
        configure_engine(ext.db.engine)
    ext.migrate.init_app(app, ext.db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    ext.mail.init_app(app)
    ext.csrf.init_app(app)
    ext.babel.init_app(app, locale_selector=select_locale)
    ext.limiter.init_app(app)
    ext.login_manager.init_app(app)
    ext.login_manager.user_loader(user_by_id)


def _register_blueprints(app: Flask) -> None:
    app.register_blueprint(public_bp)
    app.register_blueprint(manage_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(partner_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(desk_bp)
    app.register_blueprint(applications_bp)
    app.register_blueprint(newsletter_bp)
    app.register_blueprint(contributions_bp)
    app.register_blueprint(staff_newsletter_bp)
    app.register_blueprint(staff_campaigns_bp)
    app.register_blueprint(hooks_bp)
    app.register_blueprint(unsubscribe_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(staff_privacy_bp)
    app.register_blueprint(consent_bp)
    ext.csrf.exempt(api_bp)
    if app.config["DEV_TOOLS"]:
        app.register_blueprint(dev_bp)
