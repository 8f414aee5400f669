"""The two programs stay apart: the web process never loads what only the training command needs."""

import json
import subprocess
import sys

from conftest import ROOT

TRAINING_ONLY = ("tensorflow", "keras", "matplotlib", "skimage", "scipy")  # requirements-train.txt alone

SERVE = """
import json, sys, tempfile
import numpy as np
from app import app
from recognizer.reading.images import to_png_data_url
from recognizer.training.render import strokes_to_ink
client = app.test_client()
image = to_png_data_url(strokes_to_ink([[[100, 30], [100, 170]]], 14))
assert client.post("/predict", json={"image": image}).status_code == 200
assert client.post("/train", json={"image": image, "digit": 1}).status_code == 200
assert client.get("/stats").status_code == 200 and client.get("/health").status_code == 200
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_serving_and_learning_load_no_training_package(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", SERVE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"STORE_URL": f"file://{tmp_path / 'store'}", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "recognizer" in loaded and "flask" in loaded
    assert loaded.isdisjoint(TRAINING_ONLY), loaded & set(TRAINING_ONLY)


def test_the_web_install_names_no_training_package():
    lines = (ROOT / "requirements.txt").read_text().lower().splitlines()
    packages = [line.split("==")[0] for line in lines if line and not line.startswith("#")]
    assert "flask" in packages and "numpy" in packages
    assert not set(packages) & {"tensorflow", "tensorflow-cpu", "keras", "matplotlib", "scikit-image", "scipy"}
    assert "-r requirements.txt" in (ROOT / "requirements-train.txt").read_text()
    assert "-r requirements-train.txt" in (ROOT / "requirements-dev.txt").read_text()
