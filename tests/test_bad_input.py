"""Hostile input, table-driven: every kind of bad request to every route gets a 4xx JSON {"error": str} of the
right code, nothing reaches the store, and the server stays healthy."""

import base64
import io
import json
import resource
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import drawing_url, ink_url
from recognizer.reading.images import ImageError, decode_data_url, paper_gray, png_file
from recognizer.training import render
from web import create_app

TOKEN = "test-admin-token"
LABELLED = ("/train", "/samples")
WRITES = ("/predict",) + LABELLED


# ---------------------------------------------------------------------------------------------- images
def url(raw, mime="image/png"):
    return f"data:{mime};base64," + base64.b64encode(raw).decode("ascii")


def encode(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def raw_png(width, height, rows=None, bit_depth=1):
    """A grayscale PNG built by hand: the header may claim any size; `rows` many zero rows are compressed
    (all of them by default), streamed so that even a huge image costs little memory to build."""
    row = b"\x00" + b"\xff" * ((width * bit_depth + 7) // 8)  # filter byte + a white row
    rows = height if rows is None else rows
    packer, parts, block = zlib.compressobj(9), [], 1000
    for start in range(0, rows, block):
        parts.append(packer.compress(row * min(block, rows - start)))
    parts.append(packer.flush())
    return png_file(width, height, bit_depth, 0, b"".join(parts))


class Images:
    """Every image the table needs, built once."""

    def __init__(self, sample):
        ink = render.strokes_to_ink(sample["strokes"], sample["width"])
        gray = Image.fromarray(paper_gray(ink))
        self.good = drawing_url(sample)
        self.png = base64.b64decode(self.good.split(",", 1)[1])
        self.jpeg = encode(gray, "JPEG", quality=90)
        self.gif = encode(gray, "GIF")
        self.bmp = encode(gray, "BMP")
        self.webp = encode(gray, "WEBP")
        self.tiff = encode(gray, "TIFF")
        self.blank = encode(Image.new("L", (280, 280), 255), "PNG")
        self.transparent = encode(Image.new("RGBA", (280, 280), (0, 0, 0, 0)), "PNG")
        dot = Image.new("L", (280, 280), 255)
        dot.putpixel((140, 140), 0)
        self.dot = encode(dot, "PNG")
        self.tiny = encode(Image.new("L", (1, 1), 0), "PNG")
        self.thin = encode(Image.new("L", (7, 100), 0), "PNG")
        self.wide = encode(Image.new("L", (1025, 10), 0), "PNG")
        self.huge = raw_png(10000, 10000)  # a real, valid 10000x10000 PNG (~12 KB)
        corrupt = bytearray(self.png)
        start = corrupt.index(b"IDAT") + 8
        corrupt[start : start + 40] = bytes(40)  # zeroed deflate stream (CRC now wrong too)
        self.corrupt = bytes(corrupt)


BOMB_SIDE = 30000


@pytest.fixture(scope="module")
def bomb():
    """A decompression bomb: ~100 KB of PNG that would decode to 30000x30000 (900 MB gray, 3.6 GB RGBA)."""
    return raw_png(BOMB_SIDE, BOMB_SIDE)


@pytest.fixture(scope="module")
def images(strokes):
    return Images(strokes[0])


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("bad-input") / "store"


@pytest.fixture(scope="module")
def app(store_dir):
    """One app for the whole table (building one takes seconds); its store must stay empty throughout."""
    return create_app(
        {
            "TESTING": True,
            "STORE_URL": f"file://{store_dir}",
            "TRAIN_RATE_LIMIT": "100000/minute",
            "ADMIN_TOKEN": TOKEN,
            "MODEL_REFRESH_SECONDS": 0,
        }
    )


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def stored_objects(store_dir):
    """Drawings and model versions in the store (start-up's write check leaves nothing)."""
    return sorted(
        str(p.relative_to(store_dir))
        for p in Path(store_dir).rglob("*")
        if p.is_file() and p.parts[len(Path(store_dir).parts)] in ("drawings", "models")
    )


# ---------------------------------------------------------------------------------------------- the table
def js(route, image, **extra):
    """A JSON body with `image`, plus a valid digit for the labelled routes (so the image is what is wrong)."""
    body = {"image": image}
    if route in LABELLED:
        body["digit"] = 3
    body.update(extra)
    return {"json": body}


def nested(depth):
    return "[" * depth + "]" * depth


# (id, routes, request(images, route) -> client.post kwargs, expected status, words expected in the error)
CASES = [
    # --- not JSON at all
    ("text-plain-body", WRITES, lambda im, r: {"data": "hello", "content_type": "text/plain"}, 415, "JSON"),
    (
        "json-labelled-text",
        WRITES,
        lambda im, r: {"data": '{"image": "x"}', "content_type": "text/plain"},
        415,
        "Content-Type",
    ),
    ("form-encoded", WRITES, lambda im, r: {"data": {"image": im.good, "digit": "3"}}, 415, "JSON"),
    ("no-content-type", WRITES, lambda im, r: {"data": b'{"image": "x"}'}, 415, "JSON"),
    (
        "multipart-file",
        WRITES,
        lambda im, r: {"data": {"image": (io.BytesIO(im.png), "d.png")}, "content_type": "multipart/form-data"},
        415,
        "JSON",
    ),
    # --- JSON that is malformed or not an object
    ("malformed-json", WRITES, lambda im, r: {"data": '{"image": ', "content_type": "application/json"}, 400, "JSON"),
    (
        "non-utf8-bytes",
        WRITES,
        lambda im, r: {"data": b'{"image": "\xff\xfe\xfa"}', "content_type": "application/json"},
        400,
        "JSON",
    ),
    ("empty-body", WRITES, lambda im, r: {"data": b"", "content_type": "application/json"}, 400, "JSON"),
    ("json-array", WRITES, lambda im, r: {"json": [im.good, 3]}, 400, "object"),
    ("json-string", WRITES, lambda im, r: {"json": im.good}, 400, "object"),
    ("json-null", WRITES, lambda im, r: {"data": "null", "content_type": "application/json"}, 400, ""),
    ("json-number", WRITES, lambda im, r: {"data": "3", "content_type": "application/json"}, 400, "object"),
    (
        "deeply-nested-array",
        WRITES,
        lambda im, r: {"data": nested(200000), "content_type": "application/json"},
        400,
        "nested",
    ),
    (
        "deeply-nested-object",
        WRITES,
        lambda im, r: {"data": '{"image": ' * 100000 + "1" + "}" * 100000, "content_type": "application/json"},
        400,
        "nested",
    ),
    (
        "nan-literal",
        WRITES,
        lambda im, r: {
            "data": '{"image": NaN' + (', "digit": 3}' if r in LABELLED else "}"),
            "content_type": "application/json",
        },
        400,
        "string",
    ),
    # --- fields
    ("missing-image", WRITES, lambda im, r: {"json": {"digit": 3} if r in LABELLED else {}}, 400, "image"),
    ("extra-field", WRITES, lambda im, r: js(r, im.good, label=3), 400, "unexpected field"),
    ("extra-field-huge-name", WRITES, lambda im, r: js(r, im.good, **{"k" * 100000: 1}), 400, "unexpected"),
    ("image-number", WRITES, lambda im, r: js(r, 12345), 400, "string"),
    ("image-list", WRITES, lambda im, r: js(r, [im.good]), 400, "string"),
    ("image-null", WRITES, lambda im, r: js(r, None), 400, "string"),
    ("image-object", WRITES, lambda im, r: js(r, {"data": im.good}), 400, "string"),
    ("image-bool", WRITES, lambda im, r: js(r, True), 400, "string"),
    # --- strings that are not PNG/JPEG data URLs
    ("image-empty-string", WRITES, lambda im, r: js(r, ""), 400, "data URL"),
    ("not-a-data-url", WRITES, lambda im, r: js(r, "hello"), 400, "data URL"),
    ("http-url", WRITES, lambda im, r: js(r, "https://example.com/seven.png"), 400, "data URL"),
    ("bare-base64", WRITES, lambda im, r: js(r, im.good.split(",", 1)[1]), 400, "data URL"),
    ("mime-gif", WRITES, lambda im, r: js(r, url(im.gif, "image/gif")), 400, "data URL"),
    ("mime-text-plain", WRITES, lambda im, r: js(r, url(b"hello", "text/plain")), 400, "data URL"),
    (
        "mime-svg",
        WRITES,
        lambda im, r: js(r, url(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")),
        400,
        "data URL",
    ),
    ("not-base64-encoded", WRITES, lambda im, r: js(r, "data:image/png,%89PNG%0D%0A"), 400, "data URL"),
    ("nul-and-unicode", WRITES, lambda im, r: js(r, "data:image/png;base64,\x00\u202e\U0001f600"), 400, "base64"),
    ("invalid-base64-chars", WRITES, lambda im, r: js(r, "data:image/png;base64,!!!!"), 400, "base64"),
    ("invalid-base64-padding", WRITES, lambda im, r: js(r, "data:image/png;base64,iVBORw0KGgo"), 400, "base64"),
    ("base64-of-nothing", WRITES, lambda im, r: js(r, "data:image/png;base64,"), 400, "decodable"),
    # --- bytes that are not a usable PNG/JPEG
    ("truncated-png", WRITES, lambda im, r: js(r, url(im.png[: len(im.png) // 2])), 400, "truncated"),
    ("png-signature-only", WRITES, lambda im, r: js(r, url(im.png[:8])), 400, "decodable"),
    ("corrupt-png-data", WRITES, lambda im, r: js(r, url(im.corrupt)), 400, "image"),
    ("gif-labelled-png", WRITES, lambda im, r: js(r, url(im.gif)), 400, "decodable"),
    ("bmp-labelled-png", WRITES, lambda im, r: js(r, url(im.bmp)), 400, "decodable"),
    ("webp-labelled-png", WRITES, lambda im, r: js(r, url(im.webp)), 400, "decodable"),
    ("tiff-labelled-png", WRITES, lambda im, r: js(r, url(im.tiff)), 400, "decodable"),
    ("jpeg-labelled-png", WRITES, lambda im, r: js(r, url(im.jpeg)), 400, "holds JPEG"),
    ("png-labelled-jpeg", WRITES, lambda im, r: js(r, url(im.png, "image/jpeg")), 400, "holds PNG"),
    ("random-bytes", WRITES, lambda im, r: js(r, url(np.random.default_rng(7).bytes(4000))), 400, "decodable"),
    (
        "svg-labelled-png",
        WRITES,
        lambda im, r: js(r, url(b"<svg xmlns='http://www.w3.org/2000/svg'/>")),
        400,
        "decodable",
    ),
    # --- sizes
    ("1x1-image", WRITES, lambda im, r: js(r, url(im.tiny)), 400, "smallest"),
    ("7x100-image", WRITES, lambda im, r: js(r, url(im.thin)), 400, "smallest"),
    ("1025x10-image", WRITES, lambda im, r: js(r, url(im.wide)), 400, "largest"),
    ("10000x10000-image", WRITES, lambda im, r: js(r, url(im.huge)), 400, "largest"),
    ("5MB-body", WRITES, lambda im, r: js(r, "data:image/png;base64," + "A" * (5 * 1024 * 1024)), 413, "2 MB"),
    (
        "5MB-garbage-body",
        WRITES,
        lambda im, r: {"data": b"\x00" * (5 * 1024 * 1024), "content_type": "application/json"},
        413,
        "2 MB",
    ),
    # --- decodable, but nothing drawn
    ("blank-white", WRITES, lambda im, r: js(r, url(im.blank)), 422, "nothing is drawn"),
    ("blank-transparent", WRITES, lambda im, r: js(r, url(im.transparent)), 422, "nothing is drawn"),
    ("single-dot", WRITES, lambda im, r: js(r, url(im.dot)), 422, "nothing is drawn"),
]

# digits on the labelled routes, with a good drawing: 400 when missing, 422 when not a whole number 0-9
DIGITS = [
    -1,
    10,
    12,
    "x",
    3.5,
    3.0,
    None,
    True,
    False,
    "",
    "  ",
    "3.0",
    "03",
    "12",
    "-1",
    "³",
    "٣",
    "３",
    [3],
    {"digit": 3},
    10**30,
    float("inf"),
    "3\x00",
]
CASES += [
    (
        f"digit-{value!r}"[:40],
        LABELLED,
        lambda im, r, value=value: {"json": {"image": im.good, "digit": value}},
        422,
        "digit",
    )
    for value in DIGITS
]
CASES += [
    ("digit-missing", LABELLED, lambda im, r: {"json": {"image": im.good}}, 400, "digit"),
    ("digit-and-image-bad", LABELLED, lambda im, r: {"json": {"image": "x", "digit": 11}}, 422, "digit"),
]

# boxes on the labelled routes, with a good 200x200 drawing: 400 when not four whole numbers, 422 when not a part
# of the image or holding no ink
BOXES = [
    ([1, 2, 3], 400),
    ([1, 2, 3, 4, 5], 400),
    ("0,0,10,10", 400),
    ({"left": 0}, 400),
    ([0, 0, 10.5, 10], 400),
    ([0, 0, True, 10], 400),
    ([0, 0, None, 10], 400),
    (["0", "0", "10", "10"], 400),
    ([], 400),
    ([0, 0, 0, 10], 422),
    ([10, 0, 5, 10], 422),
    ([0, 10, 10, 10], 422),
    ([-1, 0, 10, 10], 422),
    ([0, 0, 201, 200], 422),
    ([0, 0, 200, 10**30], 422),
    ([0, 0, 8, 8], 422),
]
CASES += [
    (
        f"box-{value!r}"[:40],
        LABELLED,
        lambda im, r, value=value: {"json": {"image": im.good, "digit": 3, "box": value}},
        status,
        "nothing is drawn" if value == [0, 0, 8, 8] else "box",
    )
    for value, status in BOXES
]

# strokes on every route that reads a drawing, with a good 200x200 drawing: 400 when not a list of strokes of 2- or
# 3-number points of finite numbers, or too many; 422 when a point lies more than 16 px off the image
STROKES = [
    ("not-a-list", "0,0 1,1", 400),
    ("object", {"x": [1], "y": [1]}, 400),
    ("number", 5, 400),
    ("true", True, 400),
    ("stroke-not-a-list", [5], 400),
    ("stroke-object", [{"x": 1, "y": 2}], 400),
    ("flat-points", [[1, 2], [3, 4]], 400),
    ("point-of-1", [[[1]]], 400),
    ("point-of-0", [[[]]], 400),
    ("point-of-4", [[[1, 2, 3, 4]]], 400),
    ("strings", [[["1", "2"]]], 400),
    ("null-in-point", [[[1, None]]], 400),
    ("bool-x", [[[True, 2]]], 400),
    ("bool-t", [[[1, 2, False]]], 400),
    ("second-point-bad", [[[1, 2], [1]]], 400),
    ("point-object", [[{"x": 1, "y": 2}]], 400),
    ("huge-int", [[[10**400, 2]]], 400),
    ("huge-int-t", [[[1, 2, 10**400]]], 400),
    ("201-strokes", [[[1, 1]]] * 201, 400),
    ("201-empty-strokes", [[]] * 201, 400),
    ("20001-points", [[[1, 1]] * 20001], 400),
    ("20001-points-in-two", [[[1, 1]] * 10001, [[2, 2]] * 10000], 400),
    ("17px-left", [[[-17, 10]]], 422),
    ("17px-above", [[[10, -17]]], 422),
    ("17px-right", [[[217, 10]]], 422),
    ("17px-below", [[[10, 100], [10, 217.5]]], 422),
    ("far-away", [[[1e300, 1e300]]], 422),
]
CASES += [
    (f"strokes-{name}", WRITES, lambda im, r, value=value: js(r, im.good, strokes=value), status, "strokes")
    for name, value, status in STROKES
]
# numbers JSON cannot carry, as literals: Flask's parser reads NaN and Infinity, so the route must refuse them
LITERALS = ["NaN", "Infinity", "-Infinity", "1e999"]
CASES += [
    (
        f"strokes-{literal}",
        WRITES,
        lambda im, r, literal=literal: {
            "data": json.dumps(js(r, im.good, strokes=[[[1, 2, 0], ["LITERAL", 3, 5]]])["json"]).replace(
                '"LITERAL"', literal
            ),
            "content_type": "application/json",
        },
        400,
        "finite",
    )
    for literal in LITERALS
]

PARAMS = [
    pytest.param(route, make, status, words, id=f"{name}-{route.strip('/')}")
    for name, routes, make, status, words in CASES
    for route in routes
]


def assert_json_error(response, status, words=""):
    assert response.status_code == status, response.get_data()[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"]
    assert words.lower() in body["error"].lower()
    assert len(body["error"]) <= 400


def test_the_table_covers_at_least_40_kinds():
    assert len({name for name, *_ in CASES}) >= 40


@pytest.mark.parametrize("route, make, status, words", PARAMS)
def test_bad_request_is_a_json_4xx_and_stores_nothing(client, images, store_dir, route, make, status, words):
    assert_json_error(client.post(route, **make(images, route)), status, words)
    assert stored_objects(store_dir) == []


# ---------------------------------------------------------------------------------------------- other routes
@pytest.mark.parametrize(
    "method, route, headers, status",
    [
        ("post", "/admin/reset", {}, 401),
        ("post", "/admin/reset", {"Authorization": "Bearer nope"}, 401),
        ("post", "/admin/reset", {"Authorization": TOKEN}, 401),  # no "Bearer "
        ("post", "/admin/reset", {"Authorization": f"bearer {TOKEN}"}, 401),
        ("post", "/admin/reset", {"Authorization": f"Bearer {TOKEN} "}, 401),
        ("post", "/admin/reset", {"Authorization": f"Bearer {TOKEN[:-1]}"}, 401),
        ("post", "/admin/reset", {"Authorization": "Bearer " + "é" * 5000}, 401),
        ("post", "/admin/reset", {"Authorization": f"Basic {TOKEN}"}, 401),
        ("get", "/admin/reset", {"Authorization": f"Bearer {TOKEN}"}, 405),
        ("post", "/stats", {}, 405),
        ("delete", "/stats", {}, 405),
        ("get", "/predict", {}, 405),
        ("put", "/train", {}, 405),
        ("delete", "/samples", {}, 405),
        ("get", "/no-such-route", {}, 404),
        ("post", "/predict/extra", {}, 404),
        ("get", "/static/../app.py", {}, 404),
        ("get", "/%00", {}, 404),
    ],
)
def test_other_routes_answer_json_errors(client, store_dir, method, route, headers, status):
    response = getattr(client, method)(route, headers=headers, json={"image": "x"})
    assert_json_error(response, status)
    assert stored_objects(store_dir) == []


@pytest.mark.parametrize("accept", ["garbage;;q=x", "text/html;q=abc", "*/*;q=2", "application/json;q=-1", ""])
def test_stats_survives_odd_accept_headers(client, store_dir, accept):
    response = client.get("/stats", headers={"Accept": accept})
    assert response.status_code == 200
    assert stored_objects(store_dir) == []


def test_admin_routes_are_404_when_no_token_is_set(tmp_path):
    app = create_app({"TESTING": True, "STORE_URL": f"file://{tmp_path / 'store'}", "ADMIN_TOKEN": ""})
    for header in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer"}):
        assert_json_error(app.test_client().post("/admin/reset", headers=header), 404, "disabled")
    assert stored_objects(tmp_path / "store") == []


# ---------------------------------------------------------------------------------------------- the bomb
def test_decompression_bomb_is_refused_from_its_header(client, bomb, store_dir):
    """A ~100 KB PNG claiming 30000x30000 is refused before any pixel is decoded: fast and without memory."""
    assert len(bomb) < 300_000
    body = {"image": url(bomb), "digit": 3}
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    start = time.perf_counter()
    with pytest.raises(ImageError, match="largest"):
        decode_data_url(body["image"])
    for route in WRITES:
        assert_json_error(
            client.post(route, json=body if route in LABELLED else {"image": body["image"]}), 400, "largest"
        )
    elapsed = time.perf_counter() - start
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert elapsed < 1.0, f"took {elapsed:.2f} s: was it decoded?"
    assert grown_mib < 64, f"peak memory grew by {grown_mib:.0f} MiB: was it decoded?"
    assert stored_objects(store_dir) == []


# ---------------------------------------------------------------------------------------------- positive controls
def test_a_clear_jpeg_and_png_are_accepted_and_the_server_is_healthy_after_everything(client, images, store_dir):
    for _, routes, make, _, _ in CASES:  # the whole table again, in one go
        for route in routes:
            assert 400 <= client.post(route, **make(images, route)).status_code < 500
    assert client.get("/health").status_code == 200
    assert client.get("/health").get_json()["status"] == "ok"
    assert stored_objects(store_dir) == []
    for image in (images.good, url(images.jpeg, "image/jpeg"), url(images.jpeg, "image/jpg")):
        response = client.post("/predict", json={"image": image})
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["answer"] in (*range(10), None)


def test_digit_as_a_string_with_spaces_is_accepted(tmp_path, images):
    """Decided: the digit may be an int or its one-character string, surrounding spaces ignored (" 3 " is 3)."""
    store = tmp_path / "store"
    app = create_app({"TESTING": True, "STORE_URL": f"file://{store}", "MODEL_REFRESH_SECONDS": 0})
    for digit in (" 3 ", "3", 3):
        response = app.test_client().post("/samples", json={"image": images.good, "digit": digit})
        assert response.status_code == 201, response.get_json()
    assert len([p for p in stored_objects(store) if p.startswith("drawings/3/") and p.endswith(".png")]) == 3


def test_strokes_16_px_off_the_image_are_accepted_and_kept(tmp_path, images):
    """The edge of the tolerance, on every route: a pen carried 16 px past the canvas is still a drawing's."""
    store = tmp_path / "store"
    client = create_app({"TESTING": True, "STORE_URL": f"file://{store}", "MODEL_REFRESH_SECONDS": 0}).test_client()
    strokes = [[[-16, -16, 0], [216, 216, 40]], [[100.126, 50, 60], [100, 216, 75]]]
    for route in WRITES:
        response = client.post(route, **js(route, images.good, strokes=strokes))
        assert response.status_code in (200, 201), response.get_json()
    kept = [json.loads(p.read_text())["strokes"] for p in sorted(store.glob("drawings/3/*.json"))]
    assert kept == [[[[-16, -16, 0], [216, 216, 40]], [[100.13, 50, 60], [100, 216, 75]]]] * 2


def test_a_point_off_the_image_is_named_by_its_stroke_and_place(tmp_path, images):
    """Which point was refused, counted over every stroke sent (empty ones too), so the client can find it."""
    client = create_app({"TESTING": True, "STORE_URL": f"file://{tmp_path / 'store'}"}).test_client()
    strokes = [[[10, 10], [20, 20]], [], [[10, 240.5], [30, 30], [-40, 5]], [[250, 10]]]
    response = client.post("/predict", **js("/predict", images.good, strokes=strokes))
    assert response.status_code == 422
    assert response.get_json()["error"].startswith("stroke 2 of 'strokes' has a point at (10, 240.5), more than 16 px")


def test_a_drawing_of_countless_specks_is_read_in_the_time_of_any_other(client, store_dir):
    """Forty thousand specks beside one stroke: each is a piece the segmentation weighs (as a speck, a point, a
    comma), and looking at every pair of them would take half a minute."""
    ink = np.zeros((600, 600), dtype=np.float32)
    ink[::3, ::3] = np.random.default_rng(0).uniform(0.3, 1.0, ink[::3, ::3].shape)
    ink[100:300, 100:140] = 1.0
    start = time.perf_counter()
    response = client.post("/predict", json={"image": ink_url(ink)})
    elapsed = time.perf_counter() - start
    assert response.status_code == 200
    assert elapsed < 5.0, f"took {elapsed:.2f} s"
    assert stored_objects(store_dir) == []
