"""Shared fixtures: an app on a temporary local store, its client, drawings, gunicorn and moto servers."""

import base64
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import requests

from recognizer.learning import augment, guard
from recognizer.nets import weights
from recognizer.reading.images import decode_data_url, ink_over_paper, paper_gray, png_file, to_png_data_url
from recognizer.reading.preprocess import to_mnist
from recognizer.state.store import open_store
from recognizer.training import data, render
from web import create_app

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process):
    """End a server started by a test, killing it if it ignores SIGTERM for 10 s."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until(check, timeout=30.0, what="server"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not come up in {timeout} s")


@contextmanager
def gunicorn(env=None, workers=1, timeout=60, app="app:app"):
    """Run `gunicorn app:app` (or another `app` of the repository or tests/) from the repository root on a free
    loopback port; yield its base URL."""
    port = free_port()
    environment = {**os.environ, **(env or {})}
    log = tempfile.TemporaryFile()  # a file, not a pipe: a chatty server can never block on it
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--pythonpath",
            str(ROOT / "tests"),
            app,
        ],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until(
                lambda: process.poll() is None and requests.get(base + "/health", timeout=2).ok, timeout, "gunicorn"
            )
        except TimeoutError:
            log.seek(0)
            raise TimeoutError("gunicorn did not come up:\n" + log.read().decode(errors="replace")[-3000:]) from None
        yield base
    except BaseException:  # what the server said is what tells why a request to it failed
        log.seek(0)
        sys.stderr.write(f"gunicorn at {base} logged, last:\n{log.read().decode(errors='replace')[-3000:]}\n")
        raise
    finally:
        stop(process)
        log.close()


@pytest.fixture(scope="session")
def strokes():
    """The 300 dev pen drawings."""
    return data.load_strokes()


def never_held_back(ink, label, originals):
    """Whether the guard's first check passes a correction of `ink` to `label` whatever variants the server draws:
    it takes the median over the drawing and 24 of its 48 possible variants (correction_variants' 6 of 12 angles at
    each of 4 sizes), so the drawing with the 24 that give the label least stands for every draw."""
    every = np.concatenate(
        [to_mnist(ink)[None], augment.correction_variants(ink, np.random.default_rng(0), len(augment.ANGLES))]
    )
    probabilities = [net.probabilities(every) for net in originals]
    least = np.argsort(np.maximum(*(p[1:, label] for p in probabilities)))[: len(augment.SIZES) ** 2 * 6] + 1
    return not guard.firmly_contradicted([p[np.r_[0, least]] for p in probabilities], label)


@pytest.fixture(scope="session")
def learnable_strokes(strokes):
    """Drawings to correct, for tests that need every correction learned: the dev drawings, then 600 of UNIPEN's
    held-out writers' digits as drawn on the page (the shipped models misread a few of them), less those the guard
    may hold back: which one original model or the other does not give the label 5x guard.FIRM, or which some draw
    of the server's random variants could leave firmly contradicted (a test would fail one run in thirty)."""
    rng = np.random.default_rng(0)
    pens = [p for p in data.pen_split("unipen")[1] if p["strokes"]][:600]
    drawn = [
        {
            "label": p["label"],
            "width": render.PAGE_PEN,
            "strokes": render.place_strokes(p["strokes"], rng, render.PAGE_PEN),
        }
        for p in pens
    ]
    samples = strokes + drawn
    originals = weights.load_models(weights.SHIPPED)
    inks = [decode_data_url(drawing_url(s)) for s in samples]  # as the server reads them
    images = np.stack([to_mnist(ink) for ink in inks])
    rows = np.arange(len(samples)), np.array([s["label"] for s in samples])
    label = np.maximum(*(net.probabilities(images)[rows] for net in originals))
    return [
        sample
        for sample, ink, p in zip(samples, inks, label)
        if p >= 5 * guard.FIRM and never_held_back(ink, sample["label"], originals)
    ]


def page_url(ink):
    """Ink as the page sends it: static/js/ink.js paints the strokes on white, and Chromium's toDataURL writes an
    opaque RGBA PNG, every row filtered "up" and deflated at zlib's fastest level (it decodes to the same ink as
    this app's grayscale PNGs, at the page's cost: PIL's own PNGs, deflated harder, take twice as long)."""
    gray = paper_gray(ink)
    height, width = gray.shape
    pixels = np.dstack([gray, gray, gray, np.full_like(gray, 255)]).reshape(height, 4 * width)
    rows = np.full((height, 4 * width + 1), 2, dtype=np.uint8)  # each row starts with its filter type: 2, up
    rows[:, 1:] = np.diff(pixels, axis=0, prepend=np.zeros((1, 4 * width), dtype=np.uint8))  # less the row above
    png = png_file(width, height, 8, 6, zlib.compress(rows.tobytes(), 1))  # 8-bit RGBA
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def scanned(ink, paper=0.85, grain=0.03, seed=0, pen=0.0):
    """Ink as a scan or a photo of it reads: its paper grey, not white, and grainy, in 8-bit grey levels (the
    paper's and the pen's luminance given: a light pen on dark paper is a chalkboard, or a canvas in dark mode)."""
    luminance = paper + (pen - paper) * ink + np.random.default_rng(seed).normal(0.0, grain, ink.shape)
    return ink_over_paper(paper_gray(1.0 - luminance), 255)


def drawing_url(sample):
    """A dev-strokes drawing as the page would send it (on its 200 px canvas)."""
    return page_url(render.strokes_to_ink(sample["strokes"], sample["width"]))


def number_drawing(digits, seed=0, **layout):
    """The wide pad's ink for these digits' strokes written side by side, each digit's strokes (in the ink's
    pixels) and its box as composed."""
    strokes, pen, boxes = render.compose_number(digits, np.random.default_rng(seed), **layout)
    ink = render.strokes_to_ink([s for d in strokes for s in d], pen, render.WIDE_PAD[1], render.WIDE_PAD[0])
    return ink, strokes, boxes


def number_ink(digits, seed=0, **layout):
    """The wide pad's ink for these digits' strokes written side by side, and each digit's box as composed."""
    ink, _, boxes = number_drawing(digits, seed, **layout)
    return ink, boxes


def faint_speck():
    """Four faint pixels in a row: a drawing, but one whose shrunken and turned variants often all come out blank."""
    ink = np.zeros((200, 200), dtype=np.float32)
    ink[100, 100:104] = 0.21
    return ink


def ink_url(ink):
    return to_png_data_url(np.asarray(ink, dtype=np.float32))


@pytest.fixture
def cnn_trainings(monkeypatch):
    """(the batches it learned from, the trained ConvNet) for each CNN of a training run, in order."""
    from recognizer.training import train  # (Keras: imported by the tests that train, not all)

    seen, train_cnn = [], train.train_cnn

    def recording(batches, *args, **kwargs):
        trained = train_cnn(batches, *args, **kwargs)
        seen.append((batches, trained[0]))
        return trained

    monkeypatch.setattr(train, "train_cnn", recording)
    return seen


@pytest.fixture
def store_url(tmp_path):
    return f"file://{tmp_path / 'store'}"


@pytest.fixture
def app(store_url):
    return create_app(
        {
            "TESTING": True,
            "STORE_URL": store_url,
            "TRAIN_RATE_LIMIT": "1000/minute",
            "ADMIN_TOKEN": "test-admin-token",
            "MODEL_REFRESH_SECONDS": 0,
        }
    )


@pytest.fixture
def client(app):
    return app.test_client()


def start_moto():
    """moto's standalone S3 server on a free loopback port, deciding conditional writes atomically as S3 does
    (tests/atomic_moto.py); returns (process, endpoint) once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "atomic_moto.py"), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(endpoint + "/moto-api/", timeout=2).status_code < 500, 30, "moto_server")
    except TimeoutError:
        stop(process)
        raise
    return process, endpoint


@pytest.fixture(scope="session")
def moto_endpoint():
    """moto's S3 server for the session, for real HTTP S3 calls."""
    process, endpoint = start_moto()
    try:
        yield endpoint
    finally:
        stop(process)


@pytest.fixture
def s3_env(moto_endpoint, monkeypatch):
    """Environment for boto3 to talk to moto, and a fresh bucket; yields (env dict, STORE_URL)."""
    import boto3

    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    bucket = f"digits-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    yield env, f"s3://{bucket}/app"


@pytest.fixture(params=["local", "s3"])
def backend_url(request, tmp_path):
    """A STORE_URL of each backend, so both pass one test suite: a local directory, and S3 (moto over HTTP)."""
    if request.param == "local":
        return f"file://{tmp_path / 'store'}"
    return request.getfixturevalue("s3_env")[1]


@pytest.fixture
def store(backend_url):
    return open_store(backend_url)
