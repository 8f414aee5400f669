"""Every error leaves as JSON {"error": ...} with a 4xx/5xx status; a client never sees a traceback."""

import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException

from recognizer.reading.preprocess import BlankDrawing
from recognizer.state.store import StoreUnavailable

log = logging.getLogger(__name__)

MESSAGES = {
    404: "no such page or route",
    405: "this route does not accept that method",
    413: "the request body is too large; send at most 2 MB",
    415: "send JSON with Content-Type: application/json",
}


class ApiError(Exception):
    """An error a client caused or must wait out, with the status and words to answer with."""

    def __init__(self, status, message, **extra):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def error_response(status, message, **extra):
    response = jsonify(error=message, **extra)
    response.status_code = status
    return response


def register(app):
    """Install the JSON error handlers on the app."""

    @app.errorhandler(ApiError)
    def api_error(error):
        return error_response(error.status, error.message, **error.extra)

    @app.errorhandler(BlankDrawing)
    def blank_drawing(error):
        return error_response(422, str(error))

    @app.errorhandler(StoreUnavailable)
    def store_unavailable(error):
        return error_response(
            503, f"the store is unreachable right now, so nothing was saved; please try again shortly ({error})"
        )

    @app.errorhandler(HTTPException)
    def http_error(error):
        message = MESSAGES.get(error.code, error.description)
        if error.code == 429:  # flask-limiter's description is the limit, e.g. "5 per 1 minute"
            message = (
                f"too many requests: the limit is {error.description} per client; "
                "try again after the number of seconds in the Retry-After header"
            )
        return error_response(error.code, message)

    @app.errorhandler(Exception)
    def unexpected(error):
        log.exception("unexpected error")
        return error_response(500, "the server hit an unexpected error; it has been logged")
