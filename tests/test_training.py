"""The training data (MNIST, real pens by writer, generated styles) and the training command end to end, twice."""

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy import ndimage

from conftest import ROOT
from recognizer.nets import weights
from recognizer.nets.fnn import softmax
from recognizer.training import data, dataset, styles, synth, train, watched
from recognizer.training.render import strokes_to_ink


def test_training_set_holds_every_kind_of_image_with_its_target():
    x_train, y_train, _, _ = data.load_mnist()
    pens, _ = data.pen_split("uji")
    images, targets = dataset.training_set(
        x_train[:35],
        y_train[:35],
        [(pens[:6], 3), (pens[6:8], 0)],
        distorted_copies=2,
        pen_copies=1,
        per_style=2,
        non_digit_count=20,
        seed=5,
    )
    digits = 35 * (1 + 2 + 1)  # canvas, 2 distorted copies, 1 pen re-drawing
    real = 6 * 3
    styled = 2 * len(styles.STYLES)
    assert images.shape == (digits + real + styled + 20, 28, 28)
    assert np.array_equal(targets[:digits].argmax(1), np.tile(y_train[:35], 4))
    assert np.array_equal(targets[digits : digits + real].argmax(1), np.tile([p["label"] for p in pens[:6]], 3))
    assert sorted(targets[digits + real : digits + real + styled].argmax(1)) == sorted(list(styles.STYLES) * 2)
    assert np.allclose(targets[:-20].max(1), 1) and np.allclose(targets[-20:], 0.1)
    canvas, distorted, pen = images[:35], images[35:70], images[105:140]
    assert not np.allclose(canvas, distorted) and not np.allclose(canvas, pen)
    first, again = images[digits : digits + 6], images[digits + 6 : digits + 12]  # two re-drawings of the same pens
    assert not np.allclose(first, again)
    assert images.dtype == np.float32 and images.min() >= 0 and images.max() <= 1
    assert np.all(images.reshape(len(images), -1).max(1) > 0.5)  # every image has ink


def test_a_sparsely_recorded_stroke_is_drawn_as_the_few_points_a_slow_tablet_leaves():
    """A circle re-drawn unturned, unsheared, unstretched and unwobbled stays a circle; recorded with 5-12 points
    it becomes a polygon, whose sides cut inside it (a square's by 29%, a 12-gon's by 4%)."""
    circle = [[[np.cos(t), np.sin(t)] for t in np.linspace(0, 2 * np.pi, 400)]]
    still = {"turn": 0, "shear": 0, "stretch": 0, "wobble": 0}

    def roundness(strokes):
        (points,) = strokes  # centred on 0, as the circle was before it was recorded
        radii = np.hypot(*points.T)
        return radii.min() / radii.max()

    assert roundness(synth.varied_strokes(circle, np.random.default_rng(0), **still)) > 0.999
    sparse = [roundness(synth.varied_strokes(circle, np.random.default_rng(k), **still, sparse=1.0)) for k in range(20)]
    assert all(np.cos(np.pi / 4) - 0.01 < r < np.cos(np.pi / 11) + 0.01 for r in sparse)
    assert max(sparse) - min(sparse) > 0.1  # as few as 5 points and as many as 12, from one seed to the next
    drawn = [synth.varied_strokes(circle, np.random.default_rng(k), **still, sparse=0.3) for k in range(40)]
    assert 4 <= sum(roundness(strokes) < 0.99 for strokes in drawn) <= 20  # about 0.3 of them
    (octagon,) = np.asarray(synth.recorded_with(circle, 9))  # (bench/accuracy.py reads held-out writers so)
    assert np.allclose(np.hypot(*octagon.T), 1, atol=1e-4) and np.allclose(octagon[0], octagon[-1])
    assert np.allclose(np.hypot(*np.diff(octagon, axis=0).T), 2 * np.sin(np.pi / 8), atol=1e-4)


@pytest.mark.parametrize("name, writers", [("uji", 15), ("unipen", 27), ("pendigits", 6)])
def test_held_out_writers_are_never_trained_on(name, writers):
    training, held_out = data.pen_split(name)
    assert {p["writer"] for p in training}.isdisjoint({p["writer"] for p in held_out})
    assert len(data.held_out_writers(name)) == writers
    assert {p["writer"] for p in held_out} == data.held_out_writers(name)
    assert len(training) + len(held_out) == len(data.load_pens(name))
    assert set(np.unique([p["label"] for p in held_out])) == set(range(10))


def test_the_guard_watches_the_training_writers_drawings_the_cnn_is_least_sure_of():
    """Of each digit, the drawings the shipped CNN reads right least surely: less sure than drawings at random."""
    _, cnn = weights.load_models(weights.SHIPPED)
    doubt = []  # the mean probability of other digits than the drawn one
    for candidates in (1, 4):
        images, labels = watched.watched_drawings(cnn, per_set_and_digit=3, candidates=candidates)
        assert np.bincount(labels).tolist() == [9] * 10  # three a digit from each pen set
        probabilities = cnn.probabilities(images.astype(np.float32) / 255)
        if candidates > 1:
            assert (probabilities.argmax(axis=1) == labels).all()
        doubt.append(1.0 - probabilities[np.arange(len(labels)), labels].mean())
    assert doubt[1] > 3 * doubt[0]


def test_uji_keeps_its_fifteen_held_out_writers():
    _, held_out = data.pen_split("uji")
    assert len(held_out) == 300 and sorted(np.bincount([p["label"] for p in held_out])) == [30] * 10


def test_the_dev_strokes_sources_are_kept_out_of_the_mnist_training_digits():
    x_train, _ = data.mnist_training_digits()
    seen = {digit.tobytes() for digit in x_train}
    sources = data.dev_sources()
    assert not any(digit.tobytes() in seen for digit in sources)
    assert len(x_train) == len(data.load_mnist()[0]) - len(sources)


def style_ink(label, seed, width=8):
    rng = np.random.default_rng(seed)
    return strokes_to_ink([(s * 100 + 50).tolist() for s in styles.style_digit(label, rng)], width)


@pytest.mark.parametrize("seed", range(5))
def test_each_style_draws_the_mark_that_makes_it(seed):
    one = style_ink(1, seed) > 0.5  # the flag reaches left of the stem's top
    rows, cols = np.nonzero(one)
    top = cols[rows < rows.min() + 5].mean()
    assert cols[rows < rows.min() + 40].min() < top - 12
    seven = style_ink(7, seed) > 0.5  # the bar through the stem: a middle row crosses wide ink
    mid = seven[seven.any(1)][seven.any(1).sum() * 2 // 5 : seven.any(1).sum() * 3 // 5]
    assert max(row.sum() for row in mid) > 25
    zero = style_ink(0, seed) > 0.5  # the slash crosses the middle, which an oval leaves empty
    assert zero[95:106, 95:106].any() and ndimage.label(~zero)[1] >= 2
    two = style_ink(2, seed, width=3) > 0.5  # the loop at the foot closes a hole
    assert ndimage.label(~two)[1] >= 2


def test_a_stray_mark_adds_detached_ink_and_leaves_the_digit_as_drawn():
    x_train, _, _, _ = data.load_mnist()
    marks = 0
    for i in range(20):
        clean = synth.pen_drawing(x_train[i] / 255.0, np.random.default_rng(i))
        marked = synth.pen_drawing(x_train[i] / 255.0, np.random.default_rng(i), stray=1.0)
        assert np.all(marked >= clean - 1e-6)  # the digit is drawn just as without the mark
        added = (marked > 0.5) & (clean < 0.01)
        if added.any():  # (after ten tries near the digit it gives up)
            marks += 1
            assert ndimage.label(added)[1] == 1  # one short stroke or dot ...
            assert not ndimage.binary_dilation(added)[clean > 0.5].any()  # ... clear of the digit
    assert marks >= 15


QUICK = [
    "--digits",
    "700",
    "--cnn-epochs",
    "2",
    "--fnn-epochs",
    "5",
    "--uji-copies",
    "1",
    "--unipen-copies",
    "0",
    "--pendigits-copies",
    "0",
    "--per-style",
    "20",
    "--quiet",
]


def run_training(out):
    """The training command on 700 MNIST digits and UJI's training writers, writing to `out`."""
    result = subprocess.run(
        [sys.executable, "-m", "recognizer.training.train", "--out", str(out)] + QUICK,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("quick")
    run_training(out)
    return out


def test_training_command_writes_working_weights(quick_run):
    out = quick_run
    assert {"fnn.npz", "cnn.npz", "replay.npz", "training.png", "training.json"} <= {p.name for p in out.iterdir()}
    _, _, x_test, y_test = data.load_mnist()
    canvas = dataset.canvas_renderings(x_test[:300])
    fnn, cnn = weights.load_models(out)
    assert (fnn.probabilities(canvas).argmax(1) == y_test[:300]).mean() > 0.6  # chance is 0.1
    assert (cnn.probabilities(canvas).argmax(1) == y_test[:300]).mean() > 0.6
    replay = weights.load(out / "replay.npz")
    assert replay["replay_x"].shape == (1000, 28, 28) and replay["holdout_x"].shape == (300, 28, 28)
    report = json.loads((out / "training.json").read_text())
    assert set(report["accuracy"]) == {
        "uji held-out writers",
        "unipen held-out writers",
        "pendigits held-out writers",
        "bridger (iPad)",
        "hwd-1000",
        "mnist test canvas",
        "dev-strokes-300",
    }
    assert report["args"]["digits"] == "700"
    assert {"training set", "cnn", "fnn", "total"} <= set(report["seconds"])


def test_training_command_writes_the_same_weights_again(quick_run, tmp_path):
    run_training(tmp_path)
    for name in ("cnn.npz", "fnn.npz", "replay.npz"):
        first, again = weights.load(quick_run / name), weights.load(tmp_path / name)
        assert all(np.array_equal(first[k], again[k]) for k in first), name


def test_the_cnns_learn_from_the_whole_training_set_and_the_one_kept_from_its_teachers_too(tmp_path, cnn_trainings):
    train.main(
        [
            "--digits",
            "70",
            "--cnn-epochs",
            "1",
            "--fnn-epochs",
            "1",
            "--uji-copies",
            "1",
            "--unipen-copies",
            "1",
            "--pendigits-copies",
            "0",
            "--per-style",
            "3",
            "--teachers",
            "2",
            "--quiet",
            "--out",
            str(tmp_path),
        ]
    )
    (first, teacher1), (second, teacher2), (kept, cnn) = cnn_trainings
    pens = len(data.pen_split("uji")[0]) + len(data.pen_split("unipen")[0])
    assert len(kept.images) == 70 * (2 + train.PEN_COPIES) + pens + 3 * len(styles.STYLES) + 70 // 4
    assert first.images is kept.images and second.images is kept.images
    labels = first.targets
    assert {int(label) for label in labels[: -(70 // 4)].argmax(1)} == set(range(10))
    assert np.array_equal(second.targets, labels)  # the teachers learn the labels alone, from other seeds
    assert not np.array_equal(teacher1.params["conv1_w"], teacher2.params["conv1_w"])
    # The CNN written out: half the labels, half what the teachers believe together (their mean log-probabilities'
    # softmax), which they do not always agree with.
    together = np.mean([np.log(t.probabilities(kept.images)) for t in (teacher1, teacher2)], axis=0)
    beliefs = softmax(together)
    assert np.allclose(kept.targets, 0.5 * labels + 0.5 * beliefs, atol=1e-4)
    assert (beliefs.argmax(1) != labels.argmax(1)).any()
    assert np.array_equal(weights.load(tmp_path / "cnn.npz")["conv1_w"], cnn.params["conv1_w"])


@pytest.mark.parametrize(
    "arrays, problem",
    [
        ({"x": np.zeros((3, 28, 28), np.uint8)}, "not a data set"),  # no labels
        ({"x": np.zeros((3, 28, 28), np.float32), "y": np.zeros(3, int)}, "expected x"),  # not quantised
        ({"x": np.zeros((3, 20, 20), np.uint8), "y": np.zeros(3, int)}, "expected x"),
        ({"x": np.zeros((3, 28, 28), np.uint8), "y": np.zeros(2, int)}, "expected x"),
        ({"x": np.zeros((3, 28, 28), np.uint8), "y": np.array([1, 10, 2])}, "digits 0-9"),
    ],
)
def test_a_drawings_file_that_is_no_data_set_stops_training_before_it_starts(tmp_path, capsys, arrays, problem):
    path = tmp_path / "dataset.npz"
    weights.save(path, arrays)
    with pytest.raises(SystemExit) as stopped:
        train.main(["--drawings", str(path), "--out", str(tmp_path / "out")])
    assert stopped.value.code == 2 and problem in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "line, problem",
    [
        ("not json", "not a drawing in Quick, Draw!'s raw layout"),
        ('{"word": "3"}', "not a drawing in Quick, Draw!'s raw layout"),  # no strokes
        ('{"word": "12", "drawing": [[[1, 2], [3, 4]]]}', "'word' must be a digit 0-9"),
        ('{"word": 3, "drawing": [[[1, 2], [3, 4]]]}', "'word' must be a digit 0-9"),
        ('{"word": "3", "drawing": []}', "'drawing' must be strokes"),
        ('{"word": "3", "drawing": [[[1, 2, 3], [4, 5]]]}', "'drawing' must be strokes"),  # xs and ys differ
        ('{"word": "3", "drawing": [[[1, 2], [3, NaN]]]}', "'drawing' must be strokes"),
        ('{"word": "3", "drawing": [[[], []]]}', "'drawing' must be strokes"),
        ('{"word": "3", "drawing": [[[1, 2]]]}', "'drawing' must be strokes"),  # xs alone
        ('{"word": "3", "drawing": "ink"}', "'drawing' must be strokes"),
    ],
)
def test_exported_strokes_that_are_no_drawing_stop_training_before_it_starts(tmp_path, capsys, line, problem):
    """The export's strokes.ndjson beside its dataset.npz: a line that is no drawing names its file and line."""
    weights.save(tmp_path / "dataset.npz", {"x": np.zeros((2, 28, 28), np.uint8), "y": np.array([3, 5])})
    good = '{"word": "5", "drawing": [[[1, 2.5], [3, 4], [0, 10]]]}'  # xs, ys and times
    (tmp_path / "strokes.ndjson").write_text(f"{good}\n{line}\n")
    with pytest.raises(SystemExit) as stopped:
        train.main(["--drawings", str(tmp_path / "dataset.npz"), "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert stopped.value.code == 2 and problem in error and f"{tmp_path / 'strokes.ndjson'}:2" in error
    assert not (tmp_path / "out").exists()


def test_exported_strokes_are_pen_digits_in_the_order_written(tmp_path):
    weights.save(tmp_path / "dataset.npz", {"x": np.zeros((2, 28, 28), np.uint8), "y": np.array([3, 5])})
    lines = [
        '{"word": "5", "drawing": [[[1, 2.5], [3, 4], [0, 10]], [[7], [8]]]}',
        '{"word": "0", "drawing": [[[1, 2], [3, 4]]]}',
    ]
    (tmp_path / "strokes.ndjson").write_text("\n".join(lines) + "\n")
    _, _, pens = data.load_drawings(tmp_path / "dataset.npz")
    assert pens == [
        {"label": 5, "strokes": [[[1.0, 3.0], [2.5, 4.0]], [[7.0, 8.0]]]},
        {"label": 0, "strokes": [[[1.0, 3.0], [2.0, 4.0]]]},
    ]
    (tmp_path / "strokes.ndjson").unlink()  # an export of drawings without strokes, or one before them
    assert data.load_drawings(tmp_path / "dataset.npz")[2] == []


def test_a_drawings_file_that_is_not_there_stops_training(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        train.main(["--drawings", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "out")])
    assert stopped.value.code == 2 and "not a data set written by recognizer.commands.export" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text", ["3,4", "16,32,625,10", "16,0,625", "a,b,c", ""])
def test_cnn_widths_other_than_three_whole_numbers_stop_training_before_it_starts(tmp_path, capsys, text):
    with pytest.raises(SystemExit) as stopped:
        train.main(["--cnn-widths", text, "--out", str(tmp_path / "out")])
    assert stopped.value.code == 2 and "--cnn-widths" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cnn_widths_read_as_filters_filters_units():
    assert train.widths("24,48,512") == (24, 48, 512)
