"""Property-based fuzzing of the request decoder and the routes: whatever arrives, the answer is a 4xx with a JSON
error (or a success), never another exception and never a 500."""

import base64
import io

import numpy as np
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import drawing_url
from recognizer.reading.images import ImageError, decode_data_url
from web import create_app
from web import requests as body_reader
from web.errors import ApiError

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PREFIXES = [
    "data:image/png;base64,",
    "data:image/jpeg;base64,",
    "data:image/jpg;base64,",
    "data:image/gif;base64,",
    "data:image/png,",
    "data:,",
    "",
    " data:image/png;base64,",
]


def small_image(fmt, size=(24, 24), mode="L"):
    image = Image.new(mode, size, 255)
    for i in range(4, 20):  # a diagonal stroke, so it is not blank
        bands = Image.getmodebands(mode)
        image.putpixel((i, i), 0 if bands == 1 else (0,) * bands)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


SEEDS = [
    small_image("PNG"),
    small_image("JPEG"),
    small_image("PNG", mode="RGBA"),
    small_image("PNG", mode="1"),
    small_image("PNG", mode="P"),
    small_image("PNG", mode="I;16"),
    small_image("PNG", mode="LA"),
    small_image("JPEG", mode="CMYK"),
    small_image("PNG", size=(24, 1024)),
    small_image("GIF"),
]


@st.composite
def mutated_images(draw):
    """A valid small PNG/JPEG with a few bytes changed, inserted or cut off: exercises the decoder's innards."""
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        position = draw(st.integers(0, len(raw) - 1))
        action = draw(st.sampled_from(["set", "insert", "delete"]))
        if action == "set":
            raw[position] = draw(st.integers(0, 255))
        elif action == "insert":
            raw[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif len(raw) > 1:
            del raw[position]
    if draw(st.booleans()):
        raw = raw[: draw(st.integers(0, len(raw)))]
    return bytes(raw)


def as_url(prefix, raw):
    return prefix + base64.b64encode(raw).decode("ascii")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)

digits = json_values | st.characters() | st.characters().map(lambda c: f" {c} ") | st.integers(-20, 20)

image_values = st.one_of(
    json_values,
    st.text(max_size=200),
    st.builds(lambda p, t: p + t, st.sampled_from(PREFIXES), st.text(max_size=200)),
    st.builds(as_url, st.sampled_from(PREFIXES), st.binary(max_size=300)),
    st.builds(as_url, st.sampled_from(PREFIXES[:4]), mutated_images()),
)


numbers = st.floats(allow_nan=True) | st.integers(-(10**400), 10**400) | st.integers(-300, 300)
points = st.lists(numbers | st.booleans() | st.none() | st.text(max_size=3), max_size=4) | json_values
stroke_values = json_values | st.lists(st.lists(points, max_size=6), max_size=5)


def check_ink(ink):
    assert isinstance(ink, np.ndarray) and ink.dtype == np.float32 and ink.ndim == 2
    assert 8 <= min(ink.shape) and max(ink.shape) <= 1024
    assert np.isfinite(ink).all() and ink.min() >= -1e-6 and ink.max() <= 1 + 1e-6


# ---------------------------------------------------------------------------------------------- the decoder
@FUZZ
@given(image_values)
def test_decode_data_url_only_returns_ink_or_raises_image_error(value):
    try:
        ink = decode_data_url(value)
    except ImageError as error:
        assert str(error)
    else:
        check_ink(ink)


@FUZZ
@given(st.sampled_from(PREFIXES[:3]), mutated_images())
def test_mutated_images_decode_or_raise_image_error(prefix, raw):
    try:
        check_ink(decode_data_url(as_url(prefix, raw)))
    except ImageError:
        pass


CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/vnd.api+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "",
    "application/json; charset=latin-1",
]
bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.builds(lambda v: __import__("json").dumps(v).encode(), json_values),
    st.builds(
        lambda i, d, extra: __import__("json").dumps({"image": i, "digit": d, **extra}).encode(),
        image_values,
        digits,
        st.dictionaries(st.sampled_from(["x", "image", "digit"]), json_values, max_size=1),
    ),
    st.builds(lambda i: __import__("json").dumps({"image": i}).encode(), image_values),
)

bare = Flask("fuzz")


@FUZZ
@given(bodies, st.sampled_from(CONTENT_TYPES))
def test_request_decoder_only_raises_4xx_api_errors(raw, content_type):
    with bare.test_request_context("/train", method="POST", data=raw, content_type=content_type or None):
        try:
            data = body_reader.json_body(("image", "digit"))
            digit = body_reader.digit(data)
            ink = body_reader.ink(data)
        except ApiError as error:
            assert 400 <= error.status < 500 and error.message
        else:
            assert digit in range(10) and not isinstance(digit, bool)
            check_ink(ink)


@FUZZ
@given(stroke_values)
def test_strokes_are_float_arrays_on_the_image_or_a_4xx(value):
    ink = np.zeros((200, 300), np.float32)
    try:
        strokes = body_reader.strokes({"strokes": value}, ink)
    except ApiError as error:
        assert error.status in (400, 422) and "strokes" in error.message
    else:
        assert strokes is None or (isinstance(strokes, list) and strokes)
        for stroke in strokes or []:
            assert stroke.dtype == np.float64 and stroke.ndim == 2 and len(stroke) and stroke.shape[1] in (2, 3)
            assert np.isfinite(stroke).all()
            assert (stroke[:, :2] >= -16).all() and (stroke[:, 0] <= 316).all() and (stroke[:, 1] <= 216).all()


# ---------------------------------------------------------------------------------------------- the routes
@pytest.fixture(scope="module")
def client(tmp_path_factory):
    store = tmp_path_factory.mktemp("fuzz") / "store"
    app = create_app(
        {
            "TESTING": True,
            "STORE_URL": f"file://{store}",
            "TRAIN_RATE_LIMIT": "1000000/minute",
            "MODEL_REFRESH_SECONDS": 0,
            "ADMIN_TOKEN": "fuzz-token",
        }
    )
    return app.test_client()


@pytest.fixture(scope="module")
def good(strokes):
    return drawing_url(strokes[1])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["/predict", "/train", "/samples", "/admin/reset", "/stats", "/health"]),
    bodies,
    st.sampled_from(CONTENT_TYPES),
)
def test_routes_never_answer_500(client, route, raw, content_type):
    response = client.post(
        route, data=raw, content_type=content_type or None, headers={"Authorization": "Bearer wrong"}
    )
    assert response.status_code < 500, response.get_data()[:300]
    if response.status_code >= 400:
        assert isinstance(response.get_json()["error"], str)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["/predict", "/train", "/samples"]), digits, st.booleans())
def test_a_good_drawing_with_any_digit_never_answers_500(client, good, route, digit, with_digit):
    body = {"image": good, "digit": digit} if with_digit else {"image": good}
    response = client.post(route, json=body)
    assert response.status_code < 500, response.get_data()[:300]
    assert response.status_code in (200, 201) or isinstance(response.get_json()["error"], str)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["/predict", "/train", "/samples"]), stroke_values)
def test_a_good_drawing_with_any_strokes_never_answers_500(client, good, route, value):
    body = {"image": good, "strokes": value, **({"digit": 3} if route != "/predict" else {})}
    response = client.post(route, json=body)
    assert response.status_code < 500, response.get_data()[:300]
    refused = response.get_json() if response.status_code >= 400 else {}
    assert not refused or "strokes" in refused["error"] or "sample_id" in refused  # (the guard may refuse a 3)
