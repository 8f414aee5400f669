"""Throughput against gunicorn with 2 workers over loopback: a 10:1 /predict:/train mix, then learning under load.

Run from the repository root: `python bench/throughput.py [--seconds 25] [--clients 4] [--workers 2]
[--load-seconds 15] [--drawings 50000]` (`--seconds 0` or `--load-seconds 0` leaves that part out).
The mix: a closed-loop load generator, `--clients` processes, each with its own requests.Session, sending one
request after another (every 11th a /train) for `--seconds`. First, as the baseline measured in the same run, the
same clients hammer GET /health (no model work: the ceiling of gunicorn + HTTP + this load generator here).
The load generator runs on the same machine and competes with the workers for the CPU cores.
Aim: 300 predictions/s with 0 errors.

Learning under load (load_tables): /predict p50 idle and while 4 clients send corrections back to back;
corrections/s with 8 clients on one machine (a local store) and on two (two gunicorn instances, each with its own
temporary directory, sharing one bucket of moto's S3 server behind a proxy adding 20 ms to every request), with
the bytes of version objects written per correction and where the machine's CPU went (the app's workers, the S3
server, the proxy, the clients); /samples and /stats p50 on an empty store and on one seeded with `--drawings`
drawings. Aims: /predict while correcting <= 2x idle; >= 25 corrections/s on one machine and
>= 20/s on two, none lost or counted twice; <= 1 MB of versions per correction; /samples and /stats with the
drawings <= 2x on an empty store.
"""

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, namedtuple
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as app.py sets it for the server, before numpy loads
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
import requests  # noqa: E402

from bench.common import table  # noqa: E402
from recognizer.learning.online import UpdatedModels  # noqa: E402
from recognizer.nets import weights  # noqa: E402
from recognizer.reading.images import decode_data_url, ink_png  # noqa: E402
from recognizer.state import drawings  # noqa: E402
from recognizer.state.store import open_store  # noqa: E402
from recognizer.training import data  # noqa: E402
from tests.conftest import drawing_url, gunicorn, start_moto, stop  # noqa: E402
from tests.faults import FaultProxy  # noqa: E402


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


def mix_table(args, bodies):
    """The 10:1 /predict:/train mix against a /health baseline."""
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
        f"\nThroughput: gunicorn -w {args.workers} (gthread) on {os.cpu_count()} CPU(s), {args.clients} closed-loop "
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=25.0, help="of the 10:1 mix (0: leave the mix out)")
    parser.add_argument("--baseline-seconds", type=float, default=8.0)
    parser.add_argument(
        "--predict-only-seconds",
        type=float,
        default=8.0,
        help="then /predict alone, to show what /train costs the mix (0: skip)",
    )
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--load-seconds", type=float, default=15.0, help="of each learning-under-load run (0: skip)")
    parser.add_argument("--drawings", type=int, default=50_000, help="stored before /samples and /stats are timed")
    args = parser.parse_args()

    strokes = data.load_strokes()
    bodies = [{"image": drawing_url(s), "digit": s["label"]} for s in strokes[:60]]
    if args.seconds > 0:
        mix_table(args, bodies)
    if args.load_seconds > 0:
        load_tables(args, bodies)


CPU_ROLES = ("app", "S3 server", "proxy", "clients")  # whose CPU the corrections runs account for


def correcting(bases, seconds, bodies, start_at, results, client):
    """One client sending corrections back to back to bases[client % len(bases)]: ({status: count}, the
    model_version each 200 named, the CPU seconds it spent sending them)."""
    session, base = requests.Session(), bases[client % len(bases)]
    statuses, versions = Counter(), []
    while time.time() < start_at:
        time.sleep(0.001)
    i, end, cpu = client * 7, start_at + seconds, time.process_time()
    while time.time() < end:
        i += 1
        try:
            response = session.post(base + "/train", json=bodies[i % len(bodies)], timeout=60)
            statuses[response.status_code] += 1
            if response.status_code == 200:
                versions.append(response.json()["model_version"])
        except requests.RequestException:
            statuses["no answer"] += 1
    results.put((statuses, versions, time.process_time() - cpu))


Corrected = namedtuple("Corrected", "statuses versions during cpu seconds")


def correct(bases, seconds, clients, bodies, while_correcting=None, watched=None):
    """`clients` processes correcting for `seconds`; `while_correcting()` runs meanwhile in this process. Returns
    a Corrected: {status: count}, every model_version answered, what while_correcting returned, the CPU seconds
    spent by the clients and by each role of `watched` ({role: [psutil.Process]}), and the seconds that took."""
    results, start_at = multiprocessing.Queue(), time.time() + 1.0
    processes = [
        multiprocessing.Process(target=correcting, args=(bases, seconds, bodies, start_at, results, c))
        for c in range(clients)
    ]
    for p in processes:
        p.start()
    watched = watched or {}
    while time.time() < start_at:
        time.sleep(0.001)
    before, started = {role: cpu_seconds(group) for role, group in watched.items()}, time.perf_counter()
    while time.time() < start_at + 1.0:  # the correcting has begun
        time.sleep(0.01)
    during = while_correcting() if while_correcting else None
    collected = [results.get() for _ in processes]
    cpu = {role: cpu_seconds(group) - before[role] for role, group in watched.items()}
    elapsed = time.perf_counter() - started
    for p in processes:
        p.join()
    cpu["clients"] = sum(c[2] for c in collected)
    statuses, versions = sum((c[0] for c in collected), Counter()), [v for c in collected for v in c[1]]
    return Corrected(statuses, versions, during, cpu, elapsed)


def cpu_seconds(processes):
    """User and system CPU seconds the `processes` have used so far (one that has ended counts nothing)."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def serving(*bases):
    """The gunicorn masters and workers answering at `bases` (their command lines name their addresses)."""
    addresses = {base.removeprefix("http://") for base in bases}
    return [p for p in psutil.process_iter(["cmdline"]) if addresses & set(p.info["cmdline"] or ())]


def cpu_row(name, corrected):
    """A row of the CPU table: each role's CPU milliseconds per correction answered 200, and how busy the machine's
    cores were."""
    per = {role: 1000.0 * value / max(corrected.statuses[200], 1) for role, value in corrected.cpu.items()}
    busy = sum(corrected.cpu.values()) / (corrected.seconds * os.cpu_count())
    cells = [f"{per[role]:.1f}" if role in per else "-" for role in CPU_ROLES]
    return [name, *cells, f"{sum(per.values()):.1f}", f"{100 * busy:.0f}%"]


def predict_times(base, seconds, bodies):
    """Milliseconds of each /predict sent one after another on a kept-alive connection for `seconds`."""
    session, times, i = requests.Session(), [], 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        i += 1
        started = time.perf_counter()
        check(session.post(base + "/predict", json={"image": bodies[i % len(bodies)]["image"]}, timeout=60))
        times.append((time.perf_counter() - started) * 1000.0)
    return np.asarray(times)


def check(response, status=200):
    assert response.status_code == status, (response.status_code, response.text[:200])


def settled(bases):
    """The model version and the drawings counted once every worker of every base has seen the newest version."""
    time.sleep(1.5)  # past MODEL_REFRESH_SECONDS
    version = max(requests.get(base + "/health", timeout=10).json()["model_version"] for base in bases * 4)
    return version, requests.get(bases[0] + "/stats", timeout=30).json()["total_drawings"]


def counted_row(name, seconds, statuses, versions, settled_at, version_bytes):
    """A row of the corrections table, and whether every correction answered 200 was counted exactly once."""
    ok = statuses[200]
    version, drawings = settled_at
    exact = version == ok and len(set(versions)) == ok and drawings == sum(statuses.values()) - statuses["no answer"]
    row = [name, f"{sum(statuses.values())}", f"{ok}", f"{ok / seconds:.1f}", f"{version}", f"{drawings}"]
    others = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items(), key=str) if status != 200)
    row += ["yes" if exact else "NO", f"{version_bytes / max(ok, 1) / 1e6:.3f}", others or "none"]
    return row, exact


def stored_bytes(store_dir):
    return sum(path.stat().st_size for path in (Path(store_dir) / "models").glob("*.npz"))


class SlowS3(FaultProxy):
    """Relays every request to S3 `delay` seconds late, failing none, and counts the bytes PUT under models/."""

    def __init__(self, upstream, delay):
        super().__init__(upstream, share=0.0)
        self.delay, self.version_bytes = delay, 0

    def relay(self, handler):
        time.sleep(self.delay)
        if handler.command == "PUT" and "/models/" in handler.path:
            size = handler.headers.get("x-amz-decoded-content-length") or handler.headers.get("Content-Length") or 0
            with self._lock:
                self.version_bytes += int(size)
        super().relay(handler)


def seed(store_dir, count, bodies):
    """Store `count` drawings straight into a local store's directory, then set the counters as
    `check --repair` does (which it is)."""
    pngs = [ink_png(decode_data_url(body["image"])) for body in bodies[:10]]
    for i in range(count):
        digit, sample_id = i % 10, f"20260101T000000{i:06d}Z-{i:08x}"
        folder = Path(store_dir) / "drawings" / str(digit)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"sample_id": sample_id, "digit": digit, "route": "samples", "time": 0.0}
        (folder / f"{sample_id}.json").write_text(json.dumps(meta))
        (folder / f"{sample_id}.png").write_bytes(pngs[digit])
    env = {**os.environ, "STORE_URL": f"file://{store_dir}"}
    subprocess.run([sys.executable, "-m", "recognizer.commands.check", "--repair"], cwd=ROOT, env=env, check=False)
    counted = drawings.counts(open_store(f"file://{store_dir}"))
    assert sum(counted.values()) == count, counted


def collecting_times(base, bodies, n):
    """p50 ms of /samples and of /stats (JSON) on `base`, one after the other on a kept-alive connection."""
    session, times = requests.Session(), {"/samples": [], "/stats": []}
    for i in range(n):
        for route in times:
            started = time.perf_counter()
            if route == "/samples":
                check(session.post(base + route, json=bodies[i % len(bodies)], timeout=60), 201)
            else:
                check(session.get(base + route, timeout=60))
            times[route].append((time.perf_counter() - started) * 1000.0)
    return {route: float(np.median(t)) for route, t in times.items()}


def load_tables(args, bodies):
    """Reading while learning, corrections per second on one machine and two, and counting a large data set."""
    seconds, workers = args.load_seconds, args.workers
    env = {"TRAIN_RATE_LIMIT": "1000000/minute", "MODEL_VERSIONS_KEPT": str(10**9)}  # nothing pruned: bytes add up
    with tempfile.TemporaryDirectory() as tmp:
        with gunicorn({**env, "STORE_URL": f"file://{tmp}/reading"}, workers=workers) as base:
            for body in bodies[:10]:
                check(requests.post(base + "/predict", json={"image": body["image"]}, timeout=30))
            idle = predict_times(base, seconds / 2, bodies)
            busy = correct([base], seconds, 4, bodies, lambda: predict_times(base, seconds - 2.0, bodies)).during
        with gunicorn({**env, "STORE_URL": f"file://{tmp}/one"}, workers=workers) as base:
            statuses, versions, *_ = correct([base], 3.0, 1, bodies)  # one client: the baseline
            alone = counted_row(
                "1 client, 1 machine", 3.0, statuses, versions, settled([base]), stored_bytes(f"{tmp}/one")
            )[0]
        with gunicorn({**env, "STORE_URL": f"file://{tmp}/eight"}, workers=workers) as base:
            corrected = correct([base], seconds, 8, bodies, watched={"app": serving(base)})
            statuses, versions = corrected.statuses, corrected.versions
            cpu_rows = [cpu_row("8 clients, 1 machine", corrected)]
            one, one_exact = counted_row(
                "8 clients, 1 machine", seconds, statuses, versions, settled([base]), stored_bytes(f"{tmp}/eight")
            )
        moto, endpoint = start_moto()
        try:
            with SlowS3(endpoint, 0.02) as proxy:
                s3 = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
                boto3.client("s3", endpoint_url=endpoint, **lowercase(s3)).create_bucket(Bucket="bench")
                machine = {**env, **s3, "AWS_ENDPOINT_URL": proxy.url, "STORE_URL": "s3://bench/digits"}
                with (
                    gunicorn({**machine, "TMPDIR": tempfile.mkdtemp(dir=tmp)}, workers=workers) as a,
                    gunicorn({**machine, "TMPDIR": tempfile.mkdtemp(dir=tmp)}, workers=workers) as b,
                ):
                    proxy.version_bytes = 0
                    roles = {"app": serving(a, b), "S3 server": [psutil.Process(moto.pid)], "proxy": [psutil.Process()]}
                    corrected = correct([a, b], seconds, 8, bodies, watched=roles)
                    statuses, versions = corrected.statuses, corrected.versions
                    cpu_rows.append(cpu_row("8 clients, 2 machines, S3", corrected))
                    two, two_exact = counted_row(
                        "8 clients, 2 machines, S3", seconds, statuses, versions, settled([a, b]), proxy.version_bytes
                    )
        finally:
            stop(moto)
        seed(f"{tmp}/seeded", args.drawings, bodies)
        with (
            gunicorn({**env, "STORE_URL": f"file://{tmp}/empty"}, workers=workers) as empty,
            gunicorn({**env, "STORE_URL": f"file://{tmp}/seeded"}, workers=workers) as seeded,
        ):
            collecting_times(empty, bodies, 5), collecting_times(seeded, bodies, 5)  # warm
            rounds = [(collecting_times(empty, bodies, 10), collecting_times(seeded, bodies, 10)) for _ in range(4)]
    full = len(UpdatedModels(0, *weights.load_models(weights.SHIPPED)).to_bytes())

    verdict = {True: "met", False: "NOT met"}
    print(
        f"\nLearning under load: gunicorn -w {workers} (gthread) on {os.cpu_count()} CPU(s), clients on this machine.\n"
    )
    idle_p50, busy_p50 = float(np.median(idle)), float(np.median(busy))
    table(
        ["/predict on a kept-alive connection", "calls", "p50 ms", "p99 ms", "p50 vs idle"],
        [
            [name, f"{len(t)}", f"{np.median(t):.1f}", f"{np.percentile(t, 99):.1f}", f"{np.median(t) / idle_p50:.2f}x"]
            for name, t in (("idle (baseline)", idle), ("while 4 clients correct", busy))
        ],
    )
    print()
    rows = [alone, one, two]
    table(
        [
            "corrections",
            "sent",
            "200",
            "per s",
            "model_version",
            "drawings",
            "each once",
            "MB versions / corr.",
            "other answers",
        ],
        rows,
    )
    print(f"\nA full version (both updated models, float32) is {full / 1e6:.2f} MB: the baseline of the last column.")
    print("\nWhere the machine's CPU went, in ms per correction answered 200 (the proxy's is this process's):\n")
    table(["corrections", *CPU_ROLES, "all", "cores busy"], cpu_rows)
    print()
    p50 = {
        (route, kind): float(np.median([r[i][route] for r in rounds]))
        for i, kind in enumerate(("empty", "seeded"))
        for route in ("/samples", "/stats")
    }
    table(
        ["route", "p50 ms, empty store (baseline)", f"p50 ms, {args.drawings} drawings", "ratio"],
        [
            [
                route,
                f"{p50[route, 'empty']:.1f}",
                f"{p50[route, 'seeded']:.1f}",
                f"{p50[route, 'seeded'] / p50[route, 'empty']:.2f}x",
            ]
            for route in ("/samples", "/stats")
        ],
    )
    per_s = {name: float(row[3]) for name, row in (("one", one), ("two", two))}
    mb = max(float(one[7]), float(two[7]))
    slowest = max(p50[r, "seeded"] / p50[r, "empty"] for r in ("/samples", "/stats"))
    print(
        f"\n/predict while correcting {busy_p50 / idle_p50:.2f}x idle "
        f"(aim <= 2x: {verdict[busy_p50 <= 2 * idle_p50]}); "
        f"{per_s['one']:.1f} corrections/s on one machine (aim >= 25: {verdict[per_s['one'] >= 25 and one_exact]}), "
        f"{per_s['two']:.1f}/s on two (aim >= 20: {verdict[per_s['two'] >= 20 and two_exact]}), each counted once: "
        f"{verdict[one_exact and two_exact]}; {mb:.3f} MB of versions per correction (aim <= 1: {verdict[mb <= 1]}); "
        f"/samples and /stats with {args.drawings} drawings at most {slowest:.2f}x "
        f"(aim <= 2x: {verdict[slowest <= 2]})."
    )


def lowercase(env):
    """boto3.client's keyword arguments for the AWS_* settings `env` holds."""
    names = {"AWS_ACCESS_KEY_ID": "aws_access_key_id", "AWS_SECRET_ACCESS_KEY": "aws_secret_access_key"}
    return {names.get(k, "region_name"): v for k, v in env.items()}


if __name__ == "__main__":
    main()
