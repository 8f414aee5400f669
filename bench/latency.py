"""Latency, from the models' raw forward pass out to /predict and /train over loopback HTTP through gunicorn.

Run from the repository root: `python bench/latency.py [--n 300]`. Prints p50/p99 in ms for each layer and its
ratio to the raw forward pass of the four models, all measured in this run on this machine.
Aims: a one-digit /predict p50 within 4x of a /health p50 and a five-digit number's within 2x of a one-digit's
(on the square pad, and on the number's own 840x280 pad), both through gunicorn on one kept-alive connection, from
the image alone and with the strokes it was drawn with; /train p50 < 200 ms. Drawings go as the page sends them:
opaque RGBA PNGs, 280 px tall (a digit alone on the square pad, a number on the wide one), strokes to 2 decimals.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as app.py sets it for the server, before numpy loads
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import requests  # noqa: E402

from recognizer.nets import weights  # noqa: E402
from recognizer.reading.images import decode_data_url  # noqa: E402
from recognizer.reading.preprocess import to_mnist  # noqa: E402
from recognizer.service import Recognizer  # noqa: E402
from recognizer.state.drawings import kept_strokes  # noqa: E402
from recognizer.state.store import open_store  # noqa: E402
from recognizer.training import data, render  # noqa: E402
from tests.conftest import drawing_url, gunicorn, page_url  # noqa: E402
from web import create_app  # noqa: E402


def interleaved(cases, n, seed=0):
    """Milliseconds per call of each case, measured round-robin in a shuffled order each round, so that every
    row sees the same background load (this machine is shared); a case (name, fn, every) runs every `every`
    rounds. A few untimed calls of each first."""
    rng = np.random.default_rng(seed)
    for _, fn, every in cases:
        for _ in range(3 if every > 1 else 10):
            fn()
    times = {name: [] for name, _, _ in cases}
    for round_ in range(n):
        for index in rng.permutation(len(cases)):
            name, fn, every = cases[index]
            if round_ % every == 0:
                start = time.perf_counter()
                fn()
                times[name].append((time.perf_counter() - start) * 1000.0)
    return [(name, np.asarray(times[name])) for name, _, _ in cases]


def check(response, status=200):
    assert response.status_code == status, (response.status_code, response.text[:200])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, default=300, help="rounds: timed calls per row (/train, /samples: every 10th round)"
    )
    args = parser.parse_args()
    n, n_train = args.n, (args.n + 9) // 10

    strokes = data.load_strokes()
    urls = [drawing_url(s) for s in strokes[:40]]  # for /train and /samples
    samples = strokes[:40]
    # One digit as the page sends it: on its 280 px square pad (the dev drawings are on a 200 px canvas).
    zoom = render.WIDE_PAD[1] / render.CANVAS
    square_strokes = [(np.asarray(s, dtype=np.float64) * zoom).tolist() for s in samples[0]["strokes"]]
    ink = render.strokes_to_ink(square_strokes, samples[0]["width"] * zoom, render.WIDE_PAD[1])
    url = page_url(ink)
    digits, pen, _ = render.compose_number([s["strokes"] for s in strokes[40:45]], np.random.default_rng(5))
    number_strokes = [s for d in digits for s in d]
    number_ink = render.strokes_to_ink(number_strokes, pen, render.WIDE_PAD[1], render.WIDE_PAD[0])
    one, pen, _ = render.compose_number([strokes[40]["strokes"]], np.random.default_rng(5))
    wide_ink = render.strokes_to_ink(one[0], pen, render.WIDE_PAD[1], render.WIDE_PAD[0])
    bodies = {  # (name, JSON body): one digit on the square pad, one on the wide pad, five on the wide pad
        "1 digit": {"image": url},
        "1 digit, wide pad": {"image": page_url(wide_ink)},
        "5 digits": {"image": page_url(number_ink)},
    }
    given = {  # to a hundredth of a pixel, as the page sends them (static/js/strokes.js)
        name: kept_strokes(value)
        for name, value in (("1 digit", square_strokes), ("1 digit, wide pad", one[0]), ("5 digits", number_strokes))
    }
    bodies.update({f"{name}, with strokes": {**body, "strokes": given[name]} for name, body in list(bodies.items())})
    with tempfile.TemporaryDirectory() as tmp:
        store_url = f"file://{tmp}/store"
        recognizer = Recognizer(open_store(store_url), weights.SHIPPED)
        state = recognizer.current()
        image = to_mnist(ink)
        batch = image[None]
        models = {
            "fnn": recognizer.fnn,
            "cnn": recognizer.cnn,
            "fnn_updated": state.fnn,
            "cnn_updated": state.cnn,
        }
        cases = [(f"forward {name}", lambda m=model: m.probabilities(batch), 1) for name, model in models.items()]
        cases += [
            ("forward, all four (baseline)", lambda: recognizer.probabilities(batch, state), 1),
            ("decode data URL", lambda: decode_data_url(url), 1),
            ("preprocess (to_mnist)", lambda: to_mnist(ink), 1),
            ("decode + preprocess", lambda: to_mnist(decode_data_url(url)), 1),
            ("Recognizer.predict (no HTTP)", lambda: recognizer.predict(ink), 1),
            ("Recognizer.predict, 5 digits", lambda: recognizer.predict(number_ink), 1),
            ("Recognizer.predict, 1 digit, with strokes", lambda: recognizer.predict(ink, given["1 digit"]), 1),
            (
                "Recognizer.predict, 5 digits, with strokes",
                lambda: recognizer.predict(number_ink, given["5 digits"]),
                1,
            ),
            (
                "Recognizer.predict, 1 wide, with strokes",
                lambda: recognizer.predict(wide_ink, given["1 digit, wide pad"]),
                1,
            ),
        ]
        client = create_app({"STORE_URL": f"file://{tmp}/store-client", "MODEL_REFRESH_SECONDS": 1.0}).test_client()
        cases.append(("/predict, Flask test client", lambda: check(client.post("/predict", json={"image": url})), 1))

        env = {
            "STORE_URL": f"file://{tmp}/store-http",
            "TRAIN_RATE_LIMIT": "100000/minute",
            "MODEL_REFRESH_SECONDS": "1.0",
        }
        with gunicorn(env, workers=1) as base:
            session = requests.Session()
            counter = iter(range(10**9))

            def labelled(route, status):
                i = next(counter) % len(samples)
                check(session.post(base + route, json={"image": urls[i], "digit": samples[i]["label"]}), status)

            cases.append(("GET /health, gunicorn loopback", lambda: check(session.get(base + "/health")), 1))
            cases += [
                (f"/predict {name}", lambda body=body: check(session.post(base + "/predict", json=body)), 1)
                for name, body in bodies.items()
            ]
            cases += [
                ("/train, gunicorn loopback", lambda: labelled("/train", 200), 10),
                ("/samples, gunicorn loopback", lambda: labelled("/samples", 201), 10),
            ]
            rows = interleaved(cases, n)
    forward = dict(rows)["forward, all four (baseline)"]

    base_p50 = float(np.median(forward))
    print(
        f"\nLatency on {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}, {n} calls per row "
        f"({n_train} for /train and /samples); a {ink.shape[1]}x{ink.shape[0]} canvas drawing.\n"
    )
    print(f"| {'what':<44} | {'p50 ms':>7} | {'p99 ms':>7} | {'p50 / forward':>13} |")
    print(f"|{'-' * 46}|{'-' * 9}|{'-' * 9}|{'-' * 15}|")
    for name, times in rows:
        p50, p99 = np.percentile(times, [50, 99])
        print(f"| {name:<44} | {p50:7.2f} | {p99:7.2f} | {p50 / base_p50:12.1f}x |")
    p50 = {name: float(np.median(times)) for name, times in rows}
    health, train = p50["GET /health, gunicorn loopback"], p50["/train, gunicorn loopback"]
    verdict = {True: "met", False: "NOT met"}
    for way in ("", ", with strokes"):
        predict, five = p50[f"/predict 1 digit{way}"], p50[f"/predict 5 digits{way}"]
        wide = p50[f"/predict 1 digit, wide pad{way}"]
        print(
            f"\n{'From the image alone' if not way else 'With strokes'}: /predict p50 {predict:.2f} ms, "
            f"{predict / health:.1f}x /health's {health:.2f} ms (aim <= 4x: {verdict[predict <= 4 * health]}); "
            f"a five-digit number {five:.2f} ms, {five / predict:.1f}x one digit (aim <= 2x: "
            f"{verdict[five <= 2 * predict]}), {five / wide:.1f}x one digit on the same wide pad."
        )
    print(f"/train p50 {train:.1f} ms (aim < 200 ms: {verdict[train < 200]}).")


if __name__ == "__main__":
    main()
