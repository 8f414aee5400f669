"""Read and validate the JSON bodies of the API routes, turning every defect into a clear ApiError."""

from itertools import chain

import numpy as np
from flask import request

from recognizer.reading.images import ImageError, decode_data_url
from web.errors import ApiError

MAX_STROKES = 200
MAX_POINTS = 20_000
STROKE_MARGIN = 16  # px a point may lie off the image: a pen carried a little past the canvas's edge
STROKES_SHAPE = "a list of strokes, each a list of points [x, y] or [x, y, t] (numbers)"


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


def strokes(data, ink):
    """The body's optional 'strokes' (the ink as drawn, in the image's pixels): one float array per stroke, rows
    [x, y, t] where each of the stroke's points has a time, else [x, y]. Strokes of no points drew nothing and are
    left out; None when no stroke is left."""
    value = data.get("strokes")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(stroke, list) for stroke in value):
        raise ApiError(400, f"'strokes' must be {STROKES_SHAPE}")
    if len(value) > MAX_STROKES:
        raise ApiError(400, f"'strokes' holds {len(value)} strokes; at most {MAX_STROKES} are accepted")
    total = sum(map(len, value))
    if total > MAX_POINTS:
        raise ApiError(400, f"'strokes' holds {total} points in all; at most {MAX_POINTS} are accepted")
    found = [(k, stroke_points(k, stroke)) for k, stroke in enumerate(value) if stroke]
    if not found:
        return None
    xy = np.concatenate([points[:, :2] for _, points in found])  # all points at once: a check, not one a stroke
    height, width = ink.shape
    far = (xy < -STROKE_MARGIN).any(axis=1) | (xy[:, 0] > width + STROKE_MARGIN) | (xy[:, 1] > height + STROKE_MARGIN)
    if far.any():
        first = int(np.argmax(far))
        k = found[int(np.searchsorted(np.cumsum([len(points) for _, points in found]), first, side="right"))][0]
        x, y = xy[first]
        raise ApiError(
            422,
            f"stroke {k} of 'strokes' has a point at ({x:g}, {y:g}), more than {STROKE_MARGIN} px outside the "
            f"{width}x{height} image: strokes are in the sent image's pixels"[:300],
        )
    return [points for _, points in found]


NUMBER_TYPES = frozenset((int, float))  # what JSON numbers parse to; true and false are bools, not numbers


def well_formed(points):
    """Whether every one of `points` is [x, y] or [x, y, t], all numbers (checked by C loops, no call a point)."""
    return (
        {list}.issuperset(map(type, points))
        and {2, 3}.issuperset(map(len, points))
        and NUMBER_TYPES.issuperset(map(type, chain.from_iterable(points)))
    )


def stroke_points(k, stroke):
    """Stroke `k`'s points as a float array: [x, y, t] rows when every point has its time, else [x, y] rows."""
    if not well_formed(stroke):
        j, point = next((j, point) for j, point in enumerate(stroke) if not well_formed([point]))
        raise ApiError(400, f"point {j} of stroke {k} of 'strokes' must be [x, y] or [x, y, t]: {point!r}"[:300])
    columns = min(map(len, stroke))
    numbers = chain.from_iterable(point[:columns] if len(point) > columns else point for point in stroke)
    try:
        points = np.fromiter(numbers, np.float64, count=columns * len(stroke)).reshape(-1, columns)
    except OverflowError:  # a whole number too large for a float
        points = None
    if points is None or not np.isfinite(points).all():
        raise ApiError(400, f"stroke {k} of 'strokes' holds a number that is not finite; {STROKES_SHAPE}")
    return points
