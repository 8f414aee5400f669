"""The training set, and the training command end to end on a few hundred digits (and again: the same weights)."""
import argparse
import json
import subprocess
import sys

import numpy as np
import pytest
from scipy import ndimage

from recognizer import data, dataset, synth, train, weights
from conftest import ROOT


def test_training_set_holds_every_kind_of_image_with_its_target():
    x_train, y_train, _, _ = data.load_mnist()
    images, targets = dataset.training_set(x_train[:35], y_train[:35], pen_copies=1, distorted_copies=2, seed=5)
    digits = 35 * (1 + 2 + 1)                                   # canvas, 2 distorted copies, 1 pen re-drawing
    assert images.shape == (digits + 20, 28, 28)                # plus 4 non-digits per 7 digits
    assert np.array_equal(targets[:digits].argmax(1), np.tile(y_train[:35], 4))
    assert np.allclose(targets[:digits].max(1), 1) and np.allclose(targets[digits:], 0.1)
    canvas, distorted, pens = images[:35], images[35:70], images[105:140]
    assert not np.allclose(canvas, distorted) and not np.allclose(canvas, pens)
    assert images.dtype == np.float32 and images.min() >= 0 and images.max() <= 1
    assert np.all(images.reshape(len(images), -1).max(1) > 0.5)  # every image has ink


def test_a_stray_mark_adds_detached_ink_and_leaves_the_digit_as_drawn():
    x_train, _, _, _ = data.load_mnist()
    marks = 0
    for i in range(20):
        clean = synth.pen_drawing(x_train[i] / 255.0, np.random.default_rng(i))
        marked = synth.pen_drawing(x_train[i] / 255.0, np.random.default_rng(i), stray=1.0)
        assert np.all(marked >= clean - 1e-6)                  # the digit is drawn just as without the mark
        added = (marked > 0.5) & (clean < 0.01)
        if added.any():                                         # (after ten tries near the digit it gives up)
            marks += 1
            assert ndimage.label(added)[1] == 1                 # one short stroke or dot ...
            assert not ndimage.binary_dilation(added, iterations=2)[clean > 0.5].any()   # ... clear of the digit
    assert marks >= 15


QUICK = ["--digits", "700", "--cnn-epochs", "2", "--fnn-epochs", "5", "--pen-copies", "1", "--distorted-copies", "1",
         "--teachers", "1", "--quiet"]


def run_training(out, cache):
    """The training command on 700 digits, writing to `out` with teachers kept in `cache`."""
    result = subprocess.run([sys.executable, "-m", "recognizer.train", "--out", str(out), "--teacher-cache", str(cache)]
                            + QUICK, cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("quick")
    run_training(out, out / "teachers")
    return out


def test_training_command_writes_working_weights(quick_run):
    out, cache = quick_run, quick_run / "teachers"
    assert {"fnn.npz", "cnn.npz", "replay.npz", "training.png", "training.json"} <= {p.name for p in out.iterdir()}
    teacher = [p.name for p in cache.iterdir()]
    assert teacher == [f"cnn-n700-e2-p1-d1-s0-{train.code_digest()}.npz"]    # kept for the next run of this recipe
    assert not np.allclose(weights.load(cache / teacher[0])["dense2_w"], weights.load(out / "cnn.npz")["dense2_w"])

    _, _, x_test, y_test = data.load_mnist()
    canvas = dataset.canvas_renderings(x_test[:300])
    fnn, cnn = weights.load_models(out)
    assert (fnn.probabilities(canvas).argmax(1) == y_test[:300]).mean() > 0.6       # chance is 0.1
    assert (cnn.probabilities(canvas).argmax(1) == y_test[:300]).mean() > 0.6
    replay = weights.load(out / "replay.npz")
    assert replay["replay_x"].shape == (1000, 28, 28) and replay["holdout_x"].shape == (300, 28, 28)
    report = json.loads((out / "training.json").read_text())
    assert set(report["accuracy"]) == {"mnist-test canvas", "dev-strokes-300", "synthetic pens (train digits)"}
    assert report["args"]["digits"] == "700"
    assert set(report["teachers' cnn"]) == set(report["accuracy"])


def test_training_command_writes_the_same_weights_again(quick_run, tmp_path):
    run_training(tmp_path, tmp_path / "teachers")                # from nothing: the teacher is trained again too
    for name in ("cnn.npz", "fnn.npz", "replay.npz"):
        first, again = weights.load(quick_run / name), weights.load(tmp_path / name)
        assert all(np.array_equal(first[k], again[k]) for k in first), name


def test_the_student_learns_from_every_teachers_training_set(tmp_path, cnn_trainings):
    train.main(["--digits", "70", "--cnn-epochs", "1", "--fnn-epochs", "1", "--pen-copies", "1", "--distorted-copies",
                "1", "--teachers", "2", "--quiet", "--out", str(tmp_path), "--teacher-cache", str(tmp_path / "cache")])
    first, second, student = [batches.images for batches in cnn_trainings]   # two teachers, then the shipped CNN
    assert len(first) == len(second) == 70 * 3 + 40 and not np.allclose(first, second)   # each its own set
    assert np.array_equal(student, np.concatenate([first, second]))


def cached_teacher(tmp_path, digest):
    """Train (or fetch) a 35-digit teacher at seed 3, with the shipped CNN kept in the cache under `digest`."""
    x_train, y_train, _, _ = data.load_mnist()
    weights.save(tmp_path / f"cnn-n35-e1-p1-d1-s3-{digest}.npz", weights.load(ROOT / "models" / "cnn.npz"))
    args = argparse.Namespace(cnn_epochs=1, pen_copies=1, distorted_copies=1, teacher_cache=tmp_path, quiet=True)
    messages = []
    training = dataset.training_set(x_train[:35], y_train[:35], pen_copies=1, distorted_copies=1, seed=3)
    return train.teacher(training, "n35", args, seed=3, log=messages.append), messages


def test_a_cached_teacher_is_reused_rather_than_trained_again(tmp_path):
    net, messages = cached_teacher(tmp_path, train.code_digest())
    shipped = weights.load(ROOT / "models" / "cnn.npz")
    assert np.array_equal(net.params["conv1_w"], shipped["conv1_w"]) and "cached" in messages[0]


def test_a_teacher_of_other_code_is_trained_anew(tmp_path):
    net, messages = cached_teacher(tmp_path, "0123456789")       # as if preprocessing had changed since
    shipped = weights.load(ROOT / "models" / "cnn.npz")
    assert not np.array_equal(net.params["conv1_w"], shipped["conv1_w"]) and "training" in messages[0]
    assert (tmp_path / f"cnn-n35-e1-p1-d1-s3-{train.code_digest()}.npz").exists()


@pytest.mark.parametrize("arrays, problem", [
    ({"x": np.zeros((3, 28, 28), np.uint8)}, "not a data set"),                       # no labels
    ({"x": np.zeros((3, 28, 28), np.float32), "y": np.zeros(3, int)}, "expected x"),  # not quantised
    ({"x": np.zeros((3, 20, 20), np.uint8), "y": np.zeros(3, int)}, "expected x"),
    ({"x": np.zeros((3, 28, 28), np.uint8), "y": np.zeros(2, int)}, "expected x"),
    ({"x": np.zeros((3, 28, 28), np.uint8), "y": np.array([1, 10, 2])}, "digits 0-9"),
])
def test_a_drawings_file_that_is_no_data_set_stops_training_before_it_starts(tmp_path, capsys, arrays, problem):
    path = tmp_path / "dataset.npz"
    weights.save(path, arrays)
    with pytest.raises(SystemExit) as stopped:
        train.main(["--drawings", str(path), "--out", str(tmp_path / "out")])
    assert stopped.value.code == 2 and problem in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_drawings_file_that_is_not_there_stops_training(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        train.main(["--drawings", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "out")])
    assert stopped.value.code == 2 and "not a data set written by recognizer.export" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_teachers_are_named_by_their_drawings_and_an_empty_export_by_mnist_alone():
    x, y = np.zeros((3, 28, 28), np.uint8), np.array([1, 2, 3])
    other = x.copy()
    other[0, 5, 5] = 255
    assert train.digits_name(700) == "n700" == train.digits_name(700, (x[:0], y[:0]))
    assert train.digits_name(700, (x, y)).startswith("n700-c3x")
    assert len({train.digits_name(700, (x, y)), train.digits_name(700, (other, y)),
                train.digits_name(700, (x, y[::-1]))}) == 3
