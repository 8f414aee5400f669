"""The web layer: an application factory wiring the recognizer, the store and the routes together."""

import logging
import os
from pathlib import Path

from flask import Flask
from flask_cors import CORS
from werkzeug.middleware.proxy_fix import ProxyFix

from recognizer.nets import weights
from recognizer.service import Recognizer
from recognizer.state.store import StoreUnavailable, open_store, url_from_environment
from web import api, errors, limits, pages

ROOT = Path(__file__).resolve().parents[1]
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
log = logging.getLogger(__name__)


def settings_from_environment():
    """The configuration the contract names, read from the environment with its defaults."""
    env = os.environ
    return {
        "STORE_URL": url_from_environment(),
        "CORS_ORIGINS": [o.strip() for o in env.get("CORS_ORIGINS", "").split(",") if o.strip()],
        "ADMIN_TOKEN": env.get("ADMIN_TOKEN", ""),
        "TRAIN_RATE_LIMIT": env.get("TRAIN_RATE_LIMIT", "30/minute"),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", ""),  # "": a SQLite file, see web/limits.py
        "MODEL_REFRESH_SECONDS": float(env.get("MODEL_REFRESH_SECONDS", "1.0")),
        "MODEL_VERSIONS_KEPT": int(env.get("MODEL_VERSIONS_KEPT", "20")),
        "MODELS_DIR": str(weights.MODELS_DIR),
        "PROXY_HOPS": int(env.get("PROXY_HOPS", "0")),  # trusted proxies in front (Heroku's router: 1)
        "CLIENT_SALT": env.get("CLIENT_SALT", ""),  # "": one made at random, kept in the store
        "PROBLEMS_KEPT_SECONDS": float(env.get("PROBLEMS_KEPT_SECONDS", "86400")),
    }


def create_app(config=None):
    """Build the app: settings from the environment, overridden by `config` (tests pass their own)."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config.update(settings_from_environment())
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    app.config.update(config or {})

    store = open_store(app.config["STORE_URL"])
    app.extensions["recognizer"] = Recognizer(
        store,
        app.config["MODELS_DIR"],
        refresh_seconds=app.config["MODEL_REFRESH_SECONDS"],
        keep_versions=app.config["MODEL_VERSIONS_KEPT"],
        client_salt=app.config["CLIENT_SALT"],
        problems_kept_seconds=app.config["PROBLEMS_KEPT_SECONDS"],
    )
    app.extensions["health"] = {"store_ok": False}
    try:
        store.check()
        app.extensions["health"]["store_ok"] = True
    except StoreUnavailable as error:
        log.error("store unreachable at start-up: %s", error)

    if app.config["PROXY_HOPS"]:
        # Behind a router every request comes from the router's address; take the client's from
        # X-Forwarded-For, trusting only as many hops as there are proxies, so rate limits are per client.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    if app.config["CORS_ORIGINS"]:
        CORS(app, origins=app.config["CORS_ORIGINS"])
    limits.init_app(app)
    errors.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    return app
