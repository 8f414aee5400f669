"""Read and validate the JSON bodies of the API routes, turning every defect into a clear ApiError."""

from flask import request

from recognizer.reading.images import ImageError, decode_data_url
from web.errors import ApiError


def json_body(allowed):
    """The request's JSON object, refusing other content types, malformed JSON and unknown fields."""
    if not request.is_json:
        raise ApiError(415, "send JSON with Content-Type: application/json")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # json gives up on deeply nested arrays/objects with this, not ValueError
        raise ApiError(400, "the body's JSON is nested too deeply") from None
    if data is None:
        raise ApiError(400, "the body is not valid UTF-8 JSON")
    if not isinstance(data, dict):
        raise ApiError(400, 'the body must be a JSON object like {"image": "data:image/png;base64,..."}')
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ApiError(400, f"unexpected field(s): {', '.join(map(str, unknown))}; allowed: {', '.join(allowed)}"[:300])
    return data


def ink(data):
    """The drawing in the body's 'image' field, decoded to an ink array."""
    if "image" not in data:
        raise ApiError(400, "missing field 'image' (a data URL like data:image/png;base64,...)")
    try:
        return decode_data_url(data["image"])
    except ImageError as error:
        raise ApiError(400, str(error)) from None


def digit(data):
    """The body's 'digit' field as an int 0-9 (an int or its string)."""
    if "digit" not in data:
        raise ApiError(400, "missing field 'digit' (the true digit, 0-9)")
    value = data["digit"]
    if isinstance(value, str) and len(value.strip()) == 1 and value.strip() in "0123456789":  # not '³', '٣'
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9:
        return value
    raise ApiError(422, f"'digit' must be a whole number from 0 to 9, not {value!r}"[:200])


def request_id(data):
    """The body's optional 'request_id': a client's name for one correction, so a retry of it applies once."""
    value = data.get("request_id")
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= 200 or not value.isprintable():
        raise ApiError(400, "'request_id' must be a string of 1 to 200 printable characters")
    return value


def box(data, ink):
    """The body's optional 'box': [left, top, right, bottom] in the image's pixels (right and bottom exclusive),
    naming the one digit of a number that the request is about."""
    value = data.get("box")
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 4
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise ApiError(400, "'box' must be a list of four whole numbers: [left, top, right, bottom] in pixels")
    left, top, right, bottom = value
    height, width = ink.shape
    if not (0 <= left < right <= width and 0 <= top < bottom <= height):
        raise ApiError(
            422,
            f"'box' {value} is not a part of the {width}x{height} image: it needs "
            f"0 <= left < right <= {width} and 0 <= top < bottom <= {height}"[:300],
        )
    return tuple(value)
