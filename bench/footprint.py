"""The web install's size, cold start and memory: what Heroku installs, and gunicorn with 2 workers.

Run from the repository root: `python bench/footprint.py [--runs 3]`. First it builds a fresh virtualenv from
requirements.txt alone (what Heroku installs), reports its size installed and as a gzipped tarball (a slug is
one), against this .venv (the training and test packages too), and serves /predict and /train from it under
gunicorn. Then cold start and memory, from launch to /health 200, and the PSS of master + workers. Baselines
measured in the same run: a
minimal Flask app under the same gunicorn command, and a bare `python -c "import numpy"` process. PSS (from
/proc/<pid>/smaps_rollup) counts shared pages once across the processes that share them, so the sum over
master + workers is what the server really costs. Also checks that no worker has TensorFlow loaded (the CNN
runs in a numpy port). Aims: cold start < 10 s, total PSS < 512 MB. The OS file cache is warm after the first
run (the best of --runs is printed next to the first).
"""

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as app.py sets it for the server, before numpy loads
BIN = Path(sys.executable).parent
PREDICTS_PER_WORKER = 4  # /predict calls before the app's memory is read, so every worker has answered
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from recognizer.training import data  # noqa: E402
from tests.conftest import drawing_url, free_port, stop  # noqa: E402

MINIMAL_APP = """from flask import Flask, jsonify
app = Flask(__name__)

@app.get("/health")
def health():
    return jsonify(status="ok")
"""


def pss_kib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def children(pid):
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def loaded_libraries(pid, words):
    maps = Path(f"/proc/{pid}/maps").read_text().lower()
    return sorted({w for w in words if w in maps})


def start_gunicorn(module, chdir, workers, env, predict_url=None, bin_dir=BIN, train=None):
    """Launch, time to /health 200, optionally warm with /predict calls (PREDICTS_PER_WORKER a worker), measure;
    `train` (a /train body) is then sent once, and its status reported."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            str(bin_dir / "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--chdir",
            str(chdir),
            f"{module}:app",
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {module} exited with {process.returncode}")
            try:
                if requests.get(base + "/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.perf_counter() - started > 60:
                raise TimeoutError("no /health 200 within 60 s")
            time.sleep(0.02)
        first_ok = time.perf_counter() - started
        # every worker up: the first /health only proves one of them is
        deadline = time.perf_counter() + 60
        while len(children(process.pid)) < workers and time.perf_counter() < deadline:
            time.sleep(0.02)
        if predict_url:
            with requests.Session() as session:
                for _ in range(PREDICTS_PER_WORKER * workers):
                    session.post(base + "/predict", json={"image": predict_url}, timeout=30).raise_for_status()
                    session.close()  # a new connection: spread over the workers
        trained = requests.post(base + "/train", json=train, timeout=60).status_code if train else None
        time.sleep(0.5)
        pids = [process.pid] + children(process.pid)
        pss = {pid: pss_kib(pid) for pid in pids}
        heavy = {pid: loaded_libraries(pid, ("tensorflow", "libtorch", "keras")) for pid in pids}
        return {
            "cold_start_s": first_ok,
            "pss_mib": sum(pss.values()) / 1024,
            "processes": len(pids),
            "per_process_mib": [v / 1024 for v in pss.values()],
            "heavy": heavy,
            "train_status": trained,
        }
    finally:
        stop(process)


def bare_numpy():
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", "import numpy, sys; sys.stdout.write('ok\\n'); sys.stdout.flush(); sys.stdin.read()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    process.stdout.readline()
    elapsed = time.perf_counter() - started
    pss = pss_kib(process.pid) / 1024
    process.communicate(b"")
    return {"cold_start_s": elapsed, "pss_mib": pss, "processes": 1, "per_process_mib": [pss], "heavy": {}}


def site_packages(venv):
    return next(Path(venv, "lib").glob("python3*/site-packages"))


def sizes_mib(venv):
    """(installed, gzipped tarball) MiB of a virtualenv's site-packages."""
    folder = site_packages(venv)
    installed = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp, "slug.tar.gz")
        with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
            tar.add(folder, arcname="site-packages")
        return installed / 2**20, archive.stat().st_size / 2**20


def web_install(tmp, url, sample):
    """Build a virtualenv from requirements.txt alone, size it, and serve /predict and /train from it."""
    venv = Path(tmp, "web-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(ROOT / "requirements.txt")], check=True
    )
    served = start_gunicorn(
        "app",
        ROOT,
        2,
        {"STORE_URL": f"file://{tmp}/store-web"},
        predict_url=url,
        bin_dir=venv / "bin",
        train={"image": url, "digit": sample["label"]},
    )
    return sizes_mib(venv), sizes_mib(BIN.parent), served


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sample = data.load_strokes()[0]
    url = drawing_url(sample)

    with tempfile.TemporaryDirectory() as tmp:
        (web, web_gz), (full, full_gz), served = web_install(tmp, url, sample)
    print("Web install (requirements.txt alone) against this .venv (web, training and test packages):\n")
    print("| virtualenv | site-packages MiB | gzipped MiB | vs .venv |")
    print("|---|---|---|---|")
    print(f"| requirements.txt alone | {web:.0f} | {web_gz:.0f} | {web / full:.2f}x |")
    print(f"| .venv (requirements-dev.txt) | {full:.0f} | {full_gz:.0f} | 1.00x |")
    print(
        f"\nServed from it under gunicorn -w 2: {PREDICTS_PER_WORKER * 2} /predict 200, /train "
        f"{served['train_status']}; TensorFlow/Keras/Torch mapped: "
        f"{ {p: mapped for p, mapped in served['heavy'].items() if mapped} or 'none' }. Installed {web:.0f} MiB "
        f"(aim <= 250 MiB: {'met' if web <= 250 else 'NOT met'})."
    )

    results = {"app": [], "minimal": [], "numpy": []}
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "minimal_app.py").write_text(MINIMAL_APP)
        for run in range(args.runs):
            results["numpy"].append(bare_numpy())
            results["minimal"].append(start_gunicorn("minimal_app", tmp, args.workers, {}))
            results["app"].append(
                start_gunicorn("app", ROOT, args.workers, {"STORE_URL": f"file://{tmp}/store-{run}"}, predict_url=url)
            )

    labels = {
        "app": f"this app, gunicorn -w {args.workers}, after {PREDICTS_PER_WORKER * args.workers} /predict",
        "minimal": f"minimal Flask app, gunicorn -w {args.workers}",
        "numpy": "bare python -c 'import numpy'",
    }
    app_first = results["app"][0]
    print(
        f"\nFootprint on {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}; {args.runs} runs each; "
        f"cold start = launch to the first /health 200.\n"
    )
    print(
        f"| {'process(es)':<42} | {'cold start, first run s':>23} | {'best s':>6} | {'PSS total MiB':>13} |"
        f" {'per process MiB':>22} | {'PSS vs app':>10} |"
    )
    print(f"|{'-' * 44}|{'-' * 25}|{'-' * 8}|{'-' * 15}|{'-' * 24}|{'-' * 12}|")
    for key in ("app", "minimal", "numpy"):
        runs = results[key]
        last = runs[-1]
        per = " + ".join(f"{v:.0f}" for v in last["per_process_mib"])
        print(
            f"| {labels[key]:<42} | {runs[0]['cold_start_s']:23.2f} | {min(r['cold_start_s'] for r in runs):6.2f} |"
            f" {last['pss_mib']:13.0f} | {per:>22} | {last['pss_mib'] / results['app'][-1]['pss_mib']:9.2f}x |"
        )
    heavy = {pid: libs for pid, libs in results["app"][-1]["heavy"].items() if libs}
    app_pss = results["app"][-1]["pss_mib"]
    verdict = {True: "met", False: "NOT met"}
    print(
        f"\nTensorFlow/Keras/Torch mapped in any server process: {heavy or 'none'}. "
        f"Cold start {app_first['cold_start_s']:.2f} s (aim < 10 s: {verdict[app_first['cold_start_s'] < 10]}); "
        f"total PSS {app_pss:.0f} MiB (aim < 512 MB: {verdict[app_pss * 1.048576 < 512]}); "
        f"the app over the minimal Flask app: {app_pss - results['minimal'][-1]['pss_mib']:.0f} MiB."
    )


if __name__ == "__main__":
    main()
