"""The JSON routes of the contract: /health, /predict, /train, /samples, /stats, and the /admin/ routes."""

import hmac
import logging

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_limiter.util import get_remote_address

from recognizer.commands.rebuild import replay
from recognizer.service import MODELS, NotLearned
from recognizer.state import problems
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
    """200 once the models are loaded and the store answered; 503 until then. `problems`: damage found in the
    store, remembered until an admin clears it or PROBLEMS_KEPT_SECONDS pass."""
    state = current_app.extensions["health"]
    if not state["store_ok"]:
        try:
            recognizer().store.check()
            state["store_ok"] = True
        except StoreUnavailable as error:
            return jsonify(status="unavailable", error=f"store unreachable: {error}"), 503
    version = recognizer().current().version
    return jsonify(status="ok", models=list(MODELS), model_version=version, problems=recognizer().problems())


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
        body = recognizer().train(ink, digit, requests.request_id(data), box, strokes=strokes, client=client())
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


def client():
    """Who sent this request, as kept with its drawing: the address ProxyFix resolved (PROXY_HOPS), the one the
    rate limit counts, salted and hashed."""
    return recognizer().client_key(get_remote_address())


@bp.post("/samples")
@limiter.limit(train_limit)
def samples():
    ink, digit, box, strokes = labelled(requests.json_body(("image", "digit", "box", "strokes")))
    sample_id = recognizer().save_sample(ink, digit, box, strokes=strokes, client=client())
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


@bp.post("/admin/rollback")
def rollback():
    """Serve an earlier stored version's updated models again, as a new version: `{"version": n}`."""
    require_admin()
    version = requests.json_body(("version",)).get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ApiError(400, 'give the model version to go back to as an integer: {"version": n}')
    try:
        state = recognizer().rollback(version)
    except KeyError:
        raise ApiError(404, f"no stored version {version}; GET /admin/versions lists the ones kept") from None
    except Contended as error:
        raise ApiError(503, f"other updates kept winning; the rollback was not applied, try again ({error})") from None
    return jsonify(model_version=state.version, rolled_back_to=version)


@bp.get("/admin/clients")
def clients():
    """Who taught the current models what: corrections per client (a salted hash, never an address)."""
    require_admin()
    return jsonify(clients=recognizer().clients())


@bp.post("/admin/rebuild")
def rebuild():
    """Reset and learn every stored correction again, but those of `{"without_client": hash}`; slow (a few
    corrections a second): for a store of thousands, `python -m recognizer.commands.rebuild` instead."""
    require_admin()
    without = requests.json_body(("without_client",)).get("without_client")
    if without is not None and not isinstance(without, str):
        raise ApiError(400, "without_client must be a client hash as GET /admin/clients lists them")
    try:
        learned, refused, left_out, version = replay(recognizer(), without, log=log.info)
    except Contended as error:
        raise ApiError(503, f"other updates kept winning; the rebuild stopped, try again ({error})") from None
    return jsonify(model_version=version, learned=learned, refused=refused, left_out=left_out)


@bp.post("/admin/problems/clear")
def clear_problems():
    """Forget the damage /health remembers, once the operator has looked at it."""
    require_admin()
    return jsonify(cleared=problems.clear(recognizer().store))
