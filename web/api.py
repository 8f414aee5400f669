"""The JSON routes of the contract: /health, /predict, /train, /samples, /stats, /admin/reset, /admin/versions."""

import hmac
import logging

from flask import Blueprint, current_app, jsonify, render_template, request

from recognizer.service import MODELS, NotLearned
from recognizer.state.store import StoreUnavailable
from recognizer.state.versions import Contended
from web import requests
from web.errors import ApiError
from web.limits import limiter

bp = Blueprint("api", __name__)
log = logging.getLogger(__name__)


def recognizer():
    return current_app.extensions["recognizer"]


def train_limit():
    return current_app.config["TRAIN_RATE_LIMIT"]


@bp.get("/health")
def health():
    """200 once the models are loaded and the store answered; 503 until then."""
    state = current_app.extensions["health"]
    if not state["store_ok"]:
        try:
            recognizer().store.check()
            state["store_ok"] = True
        except StoreUnavailable as error:
            return jsonify(status="unavailable", error=f"store unreachable: {error}"), 503
    versions = recognizer().versions
    return jsonify(
        status="ok", models=list(MODELS), model_version=recognizer().current().version, problems=list(versions.problems)
    )


@bp.post("/predict")
def predict():
    data = requests.json_body(("image", "strokes"))
    ink = requests.ink(data)
    return jsonify(recognizer().predict(ink, requests.strokes(data, ink)))


def labelled(data):
    """The (ink, digit, box, strokes) of a /train or /samples body; the digit is checked before the image is
    decoded."""
    digit = requests.digit(data)
    ink = requests.ink(data)
    return ink, digit, requests.box(data, ink), requests.strokes(data, ink)


@bp.post("/train")
@limiter.limit(train_limit)
def train():
    data = requests.json_body(("image", "digit", "box", "request_id", "strokes"))
    ink, digit, box, strokes = labelled(data)
    try:
        body = recognizer().train(ink, digit, requests.request_id(data), box, strokes=strokes)
    except NotLearned as error:
        if error.refused:
            log.warning("refused a correction to %d: %s", digit, error)
            raise ApiError(422, f"{error}; the drawing was kept but not learned", sample_id=error.sample_id) from None
        raise ApiError(
            503,
            f"the drawing was kept, but the models could not be updated right now ({error}); it can be learned later",
            sample_id=error.sample_id,
        ) from None
    return jsonify(body)


@bp.post("/samples")
@limiter.limit(train_limit)
def samples():
    ink, digit, box, strokes = labelled(requests.json_body(("image", "digit", "box", "strokes")))
    sample_id = recognizer().save_sample(ink, digit, box, strokes=strokes)
    try:
        return jsonify(sample_id=sample_id, counts=recognizer().drawing_counts()), 201
    except StoreUnavailable:  # the drawing is stored: say so, just without the counts
        return jsonify(sample_id=sample_id), 201


@bp.get("/stats")
def stats():
    """JSON for programs; the statistics page for a browser that asks for HTML."""
    body = recognizer().stats()
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    if best == "text/html" and request.accept_mimetypes[best] > request.accept_mimetypes["application/json"]:
        return render_template("stats.html", stats=body)
    return jsonify(body)


def require_admin():
    token = current_app.config["ADMIN_TOKEN"]
    if not token:
        raise ApiError(404, "admin routes are disabled: ADMIN_TOKEN is not set")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise ApiError(401, "admin routes need the header Authorization: Bearer <ADMIN_TOKEN>")


@bp.post("/admin/reset")
def reset():
    require_admin()
    try:
        state = recognizer().reset()
    except Contended as error:
        raise ApiError(503, f"other updates kept winning; the reset was not applied, try again ({error})") from None
    return jsonify(model_version=state.version, versions=recognizer().versions.history())


@bp.get("/admin/versions")
def versions():
    """The stored versions of the updated models, oldest first: what an audit or a roll-back starts from."""
    require_admin()
    return jsonify(model_version=recognizer().versions.refresh().version, versions=recognizer().versions.history())
