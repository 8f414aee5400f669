"""Throughput under a 10:1 /predict:/train mix against gunicorn with 2 workers, over loopback.

Run from the repository root: `python bench/throughput.py [--seconds 25] [--clients 4] [--workers 2]`.
A closed-loop load generator: `--clients` processes, each with its own requests.Session, sending one request
after another (every 11th a /train) for `--seconds`. First, as the baseline measured in the same run, the
same clients hammer GET /health (no model work: the ceiling of gunicorn + HTTP + this load generator here).
The load generator runs on the same machine and competes with the workers for the CPU cores.
Aim: 300 predictions/s with 0 errors.
"""

import argparse
import multiprocessing
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

from recognizer.training import data  # noqa: E402
from tests.conftest import drawing_url, gunicorn  # noqa: E402


def client_loop(base, seconds, mix, bodies, start_at, results):
    """One load-generating process: returns {kind: [latency ms...]}, {kind: errors}."""
    session = requests.Session()
    latencies, errors = {"predict": [], "train": [], "health": []}, {"predict": 0, "train": 0, "health": 0}
    while time.time() < start_at:
        time.sleep(0.001)
    end, i = start_at + seconds, os.getpid()
    while time.time() < end:
        i += 1
        sample = bodies[i % len(bodies)]
        if mix == "health":
            kind, call = "health", lambda: session.get(base + "/health", timeout=30)
        elif mix == "mix" and i % 11 == 0:
            kind, call = "train", lambda sample=sample: session.post(base + "/train", json=sample, timeout=30)
        else:
            kind, call = (
                "predict",
                lambda sample=sample: session.post(base + "/predict", json={"image": sample["image"]}, timeout=30),
            )
        started = time.perf_counter()
        try:
            ok = call().status_code == 200
        except requests.RequestException:
            ok = False
        latencies[kind].append((time.perf_counter() - started) * 1000.0)
        errors[kind] += not ok
    results.put((latencies, errors))


def run(base, seconds, clients, mix, bodies):
    results = multiprocessing.Queue()
    start_at = time.time() + 1.0
    processes = [
        multiprocessing.Process(target=client_loop, args=(base, seconds, mix, bodies, start_at, results))
        for _ in range(clients)
    ]
    for p in processes:
        p.start()
    collected = [results.get() for _ in processes]
    for p in processes:
        p.join()
    latencies = {k: np.concatenate([np.asarray(c[0][k]) for c in collected]) for k in ("predict", "train", "health")}
    errors = {k: sum(c[1][k] for c in collected) for k in ("predict", "train", "health")}
    return latencies, errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--baseline-seconds", type=float, default=8.0)
    parser.add_argument(
        "--predict-only-seconds",
        type=float,
        default=8.0,
        help="then /predict alone, to show what /train costs the mix (0: skip)",
    )
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    strokes = data.load_strokes()
    bodies = [{"image": drawing_url(s), "digit": s["label"]} for s in strokes[:60]]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {"STORE_URL": f"file://{tmp}/store", "TRAIN_RATE_LIMIT": "1000000/minute"}
        with gunicorn(env, workers=args.workers) as base:
            for body in bodies[:5]:  # warm both workers a little
                requests.post(base + "/predict", json={"image": body["image"]}, timeout=30)
            health, health_errors = run(base, args.baseline_seconds, args.clients, "health", bodies)
            rows.append(("GET /health (baseline)", health["health"], health_errors["health"], args.baseline_seconds))
            load = os.getloadavg()[0]
            latencies, errors = run(base, args.seconds, args.clients, "mix", bodies)
            rows.append(("/predict (10 of 11)", latencies["predict"], errors["predict"], args.seconds))
            rows.append(("/train (1 of 11)", latencies["train"], errors["train"], args.seconds))
            time.sleep(1.5)  # past MODEL_REFRESH_SECONDS: every worker sees the newest version
            final = {
                "model_version": max(
                    requests.get(base + "/health", timeout=10).json()["model_version"] for _ in range(6)
                )
            }
            if args.predict_only_seconds > 0:
                alone, alone_errors = run(base, args.predict_only_seconds, args.clients, "predict", bodies)
                rows.append(("/predict alone", alone["predict"], alone_errors["predict"], args.predict_only_seconds))

    print(
        f"\nThroughput: gunicorn -w {args.workers} (sync) on {os.cpu_count()} CPU(s), {args.clients} closed-loop "
        f"client processes on the same machine, {args.seconds:.0f} s of 10:1 predict:train after "
        f"{args.baseline_seconds:.0f} s of /health (then {args.predict_only_seconds:.0f} s of /predict alone); "
        f"load average before the mix {load:.1f}.\n"
    )
    print(
        f"| {'requests':<24} | {'count':>6} | {'req/s':>7} | {'errors':>6} | {'p50 ms':>7} | {'p99 ms':>7} |"
        f" {'req/s vs /health':>16} |"
    )
    print(f"|{'-' * 26}|{'-' * 8}|{'-' * 9}|{'-' * 8}|{'-' * 9}|{'-' * 9}|{'-' * 18}|")
    base_rate = len(rows[0][1]) / rows[0][3]
    for name, times, errors, seconds in rows:
        rate = len(times) / seconds
        p50, p99 = np.percentile(times, [50, 99]) if len(times) else (float("nan"),) * 2
        print(
            f"| {name:<24} | {len(times):6d} | {rate:7.1f} | {errors:6d} | {p50:7.1f} | {p99:7.1f} |"
            f" {rate / base_rate:15.2f}x |"
        )
    predictions = len(rows[1][1]) / args.seconds
    total_errors = rows[1][2] + rows[2][2]
    print(
        f"\n{predictions:.0f} predictions/s with {total_errors} errors (aim: 300/s with 0 errors: "
        f"{'met' if predictions >= 300 and total_errors == 0 else 'NOT met'}); model_version after the run: "
        f"{final['model_version']} (= the /train count when none was lost: {len(rows[2][1]) - rows[2][2]})."
    )


if __name__ == "__main__":
    main()
