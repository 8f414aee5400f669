"""The training set's fresh distortions, and the training command end to end on a few hundred digits."""
import json
import subprocess
import sys

import numpy as np

from recognizer import data, dataset, weights
from recognizer.cnn import ConvNet
from recognizer.fnn import FNN
from tests.conftest import ROOT


def test_each_sample_keeps_the_fixed_images_and_draws_new_distortions():
    x_train, y_train, _, _ = data.load_mnist()
    examples = dataset.TrainingSet(x_train[:35], y_train[:35], pen_copies=1, distorted_copies=2, seed=5)
    first_images, first_targets = examples.sample()
    second_images, second_targets = examples.sample()
    fixed = len(examples.fixed)
    assert fixed == 35 * 2 + 20                               # canvas + 1 pen copy + 4 non-digits per 7 digits
    assert len(first_images) == len(examples) == fixed + 2 * 35
    assert np.array_equal(first_images[:fixed], second_images[:fixed])
    assert not np.allclose(first_images[fixed:], second_images[fixed:])
    assert np.array_equal(first_targets, second_targets)
    assert np.array_equal(first_targets[fixed:].argmax(1), np.tile(y_train[:35], 2))
    assert np.allclose(first_targets[35 * 2:fixed], 0.1)       # non-digits: a uniform guess
    assert first_images.dtype == np.float32 and first_images.min() >= 0 and first_images.max() <= 1


def test_training_command_writes_working_weights(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "recognizer.train", "--out", str(tmp_path), "--digits", "700", "--cnn-epochs", "2",
         "--fnn-epochs", "5", "--pen-copies", "1", "--distorted-copies", "1", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert result.returncode == 0, result.stderr[-3000:]
    assert {"fnn.npz", "cnn.npz", "replay.npz", "training.png", "training.json"} <= {p.name for p in tmp_path.iterdir()}

    _, _, x_test, y_test = data.load_mnist()
    canvas = dataset.canvas_renderings(x_test[:300])
    fnn = FNN(weights.load(tmp_path / "fnn.npz"))
    cnn = ConvNet(weights.load(tmp_path / "cnn.npz"))
    assert (fnn.probabilities(canvas).argmax(1) == y_test[:300]).mean() > 0.6       # chance is 0.1
    assert (cnn.probabilities(canvas).argmax(1) == y_test[:300]).mean() > 0.6
    replay = weights.load(tmp_path / "replay.npz")
    assert replay["replay_x"].shape == (1000, 28, 28) and replay["holdout_x"].shape == (300, 28, 28)
    report = json.loads((tmp_path / "training.json").read_text())
    assert set(report["accuracy"]) == {"mnist-test canvas", "dev-strokes-300", "synthetic pens (train digits)"}
    assert report["args"]["digits"] == "700"
