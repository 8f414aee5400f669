"""Latency, from the models' raw forward pass out to /predict and /train over loopback HTTP through gunicorn.

Run from the repository root: `python bench/latency.py [--n 300]`. Prints p50/p99 in ms for each layer and its
ratio to the raw forward pass of the four models, all measured in this run on this machine.
Aims: a one-digit /predict p50 within 4x of a /health p50 and a five-digit number's within 2x of a one-digit's
(on the square pad, and on the number's own 840x280 pad), both through gunicorn; /train p50 < 200 ms.
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
from recognizer.reading.images import decode_data_url, to_png_data_url  # noqa: E402
from recognizer.reading.preprocess import to_mnist  # noqa: E402
from recognizer.service import Recognizer  # noqa: E402
from recognizer.state.store import open_store  # noqa: E402
from recognizer.training import data, render  # noqa: E402
from tests.conftest import drawing_url, gunicorn  # noqa: E402
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
    urls = [drawing_url(s) for s in strokes[:40]]
    samples = strokes[:40]
    url = urls[0]
    digits, pen, _ = render.compose_number([s["strokes"] for s in strokes[40:45]], np.random.default_rng(5))
    number_ink = render.strokes_to_ink([s for d in digits for s in d], pen, render.WIDE_PAD[1], render.WIDE_PAD[0])
    number_url = to_png_data_url(number_ink)
    one, pen, _ = render.compose_number([strokes[40]["strokes"]], np.random.default_rng(5))
    wide_url = to_png_data_url(render.strokes_to_ink(one[0], pen, render.WIDE_PAD[1], render.WIDE_PAD[0]))
    with tempfile.TemporaryDirectory() as tmp:
        store_url = f"file://{tmp}/store"
        recognizer = Recognizer(open_store(store_url), weights.SHIPPED)
        state = recognizer.current()
        ink = decode_data_url(url)
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

            cases += [
                ("GET /health, gunicorn loopback", lambda: check(session.get(base + "/health")), 1),
                ("/predict, gunicorn loopback", lambda: check(session.post(base + "/predict", json={"image": url})), 1),
                (
                    "/predict 1 digit, wide pad, gunicorn",
                    lambda: check(session.post(base + "/predict", json={"image": wide_url})),
                    1,
                ),
                (
                    "/predict 5 digits, gunicorn loopback",
                    lambda: check(session.post(base + "/predict", json={"image": number_url})),
                    1,
                ),
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
    print(f"| {'what':<38} | {'p50 ms':>7} | {'p99 ms':>7} | {'p50 / forward':>13} |")
    print(f"|{'-' * 40}|{'-' * 9}|{'-' * 9}|{'-' * 15}|")
    for name, times in rows:
        p50, p99 = np.percentile(times, [50, 99])
        print(f"| {name:<38} | {p50:7.2f} | {p99:7.2f} | {p50 / base_p50:12.1f}x |")
    p50 = {name: float(np.median(times)) for name, times in rows}
    predict, health = p50["/predict, gunicorn loopback"], p50["GET /health, gunicorn loopback"]
    five, train = p50["/predict 5 digits, gunicorn loopback"], p50["/train, gunicorn loopback"]
    wide = p50["/predict 1 digit, wide pad, gunicorn"]
    verdict = {True: "met", False: "NOT met"}
    print(
        f"\n/predict p50 {predict:.2f} ms, {predict / health:.1f}x /health's {health:.2f} ms "
        f"(aim <= 4x: {verdict[predict <= 4 * health]}); a five-digit number {five:.2f} ms, "
        f"{five / predict:.1f}x one digit (aim <= 2x: {verdict[five <= 2 * predict]}), {five / wide:.1f}x one digit "
        f"on the same wide pad; "
        f"/train p50 {train:.1f} ms (aim < 200 ms: {verdict[train < 200]})."
    )


if __name__ == "__main__":
    main()
