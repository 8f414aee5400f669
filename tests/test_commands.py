"""The offline commands on a local store: rebuild the updated models from the corrections, export the data set,
and train on it."""

import datetime
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, drawing_url
from recognizer.state.drawings import stored_drawings
from recognizer.state.store import open_store
from recognizer.state.versions import POINTER, ModelVersions
from recognizer.training import data, dataset, train


@pytest.fixture
def collected(client, store_url, strokes):
    """A store holding 5 corrections (/train, with the strokes they were drawn with) and 3 plain samples (/samples,
    without), as the app wrote them."""
    trained = []
    for sample in strokes[:5]:
        body = {"image": drawing_url(sample), "digit": sample["label"], "strokes": sample["strokes"]}
        response = client.post("/train", json=body)
        assert response.status_code == 200
        trained.append((response.get_json()["sample_id"], sample["label"]))
    for sample in strokes[5:8]:
        assert client.post("/samples", json={"image": drawing_url(sample), "digit": sample["label"]}).status_code == 201
    return trained


def command(module, store_url, *args):
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "STORE_URL": store_url},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_rebuild_replays_the_corrections_in_order(collected, store_url, app):
    store = open_store(store_url)
    app.extensions["recognizer"].reset()  # the online updates are gone: rebuild restores them
    output = command("recognizer.commands.rebuild", store_url)
    assert "5 corrections learned, 0 refused; model_version 5" in output
    assert json.loads(store.get(POINTER)[0])["version"] == 5
    state = ModelVersions(store, None).refresh()
    rebuilt = state.history[-5:]
    assert state.history[-6] == {"reset": True}
    assert [(h["version"], h["digit"]) for h in rebuilt] == [(v + 1, digit) for v, (_, digit) in enumerate(collected)]
    assert len(state.recent_y) == 5 and list(state.recent_y) == [digit for _, digit in collected]
    assert len(stored_drawings(store)) == 8  # it only reads drawings
    assert all("right" not in h for h in rebuilt)  # replays are not scored again, so /stats ...
    stats = app.test_client().get("/stats").get_json()
    assert stats["corrections"] == 5 and stats["model_versions"]["cnn_updated"] == 5  # ... counts each once


def test_rebuild_on_an_empty_store_resets(tmp_path):
    output = command("recognizer.commands.rebuild", f"file://{tmp_path / 'store'}")
    assert "0 corrections learned, 0 refused; model_version 0" in output


def test_export_writes_the_data_set(collected, store_url, strokes, tmp_path):
    out = tmp_path / "export"
    assert "exported 8 drawings" in command("recognizer.commands.export", store_url, "--out", str(out))
    with np.load(out / "dataset.npz", allow_pickle=False) as data:
        x, y, ids = data["x"], data["y"], data["sample_ids"]
    assert x.shape == (8, 28, 28) and x.dtype == np.uint8
    assert list(y) == [sample["label"] for sample in strokes[:8]]  # sent one after another: oldest first
    assert list(ids) == sorted(ids) and set(ids) >= {sample_id for sample_id, _ in collected}
    assert (x[:, 0, :] == 0).all() and (x[:, :, 0] == 0).all() and (x.max(axis=(1, 2)) == 255).all()  # white on black
    store = open_store(store_url)
    for sample_id, digit in zip(ids, y):
        png = out / "png" / str(digit) / f"{sample_id}.png"
        assert png.read_bytes() == store.get(f"drawings/{digit}/{sample_id}.png")[0]


def test_export_writes_the_strokes_as_quickdraw_ndjson_and_they_come_back_exactly(client, store_url, strokes, tmp_path):
    """What the app kept comes back from strokes.ndjson, oldest first, in Quick, Draw!'s raw layout; a drawing
    stored without strokes is in the PNGs but not there."""
    clock = iter(range(0, 10**6, 7))
    sent = [
        ("/train", strokes[0], [[[x + 0.123, y, next(clock)] for x, y in stroke] for stroke in strokes[0]["strokes"]]),
        ("/samples", strokes[1], strokes[1]["strokes"]),  # without times
        ("/samples", strokes[2], None),
        ("/samples", strokes[3], [[[x, y, 5] for x, y in strokes[3]["strokes"][0]]] + strokes[3]["strokes"][1:]),
    ]
    for route, sample, drawn in sent:
        body = {"image": drawing_url(sample), "digit": sample["label"], **({"strokes": drawn} if drawn else {})}
        assert client.post(route, json=body).status_code in (200, 201)
    out = tmp_path / "export"
    output = command("recognizer.commands.export", store_url, "--out", str(out))
    assert "exported 4 drawings (3 with their strokes)" in output
    lines = [json.loads(line) for line in (out / "strokes.ndjson").read_text().splitlines()]
    store = open_store(store_url)
    with_strokes = [d for d in stored_drawings(store) if "strokes" in d.meta(store)]
    assert [line["sample_id"] for line in lines] == [d.sample_id for d in with_strokes] and len(lines) == 3
    for line, drawing, (_, sample, drawn) in zip(lines, with_strokes, [sent[0], sent[1], sent[3]]):
        meta = drawing.meta(store)
        assert set(line) == {"key_id", "word", "countrycode", "timestamp", "recognized", "drawing", "sample_id"}
        assert line["word"] == str(sample["label"]) == str(drawing.digit)
        assert line["key_id"].isdigit() and int(line["key_id"]) < 2**64
        assert line["recognized"] == (meta["answer"] == drawing.digit)
        stamp = datetime.datetime.strptime(line["timestamp"], "%Y-%m-%d %H:%M:%S.%f UTC")
        assert abs(stamp.replace(tzinfo=datetime.UTC).timestamp() - meta["time"]) < 1e-5
        assert (out / "png" / line["word"] / f"{line['sample_id']}.png").exists()
        back = [[list(point) for point in zip(*stroke)] for stroke in line["drawing"]]
        assert back == meta["strokes"] == [[[round(v, 2) for v in point] for point in stroke] for stroke in drawn]
    assert len({line["key_id"] for line in lines}) == 3
    assert [len(stroke) for stroke in lines[0]["drawing"]] == [3] * len(lines[0]["drawing"])  # xs, ys, ts
    assert [len(stroke) for stroke in lines[1]["drawing"]] == [2] * len(lines[1]["drawing"])  # xs, ys


def test_export_of_an_empty_store(tmp_path):
    out = tmp_path / "export"
    assert "exported 0 drawings (0 with their strokes)" in command(
        "recognizer.commands.export", f"file://{tmp_path / 'store'}", "--out", str(out)
    )
    with np.load(out / "dataset.npz", allow_pickle=False) as data:
        assert data["x"].shape == (0, 28, 28) and data["y"].shape == (0,)
    assert (out / "strokes.ndjson").read_text() == ""


def test_training_learns_from_the_exported_drawings(collected, store_url, tmp_path, cnn_trainings, strokes):
    exported = tmp_path / "export" / "dataset.npz"
    command("recognizer.commands.export", store_url, "--out", str(exported.parent))
    x, y, drawn = data.load_drawings(exported)
    train.main(
        [
            "--digits",
            "70",
            "--drawings",
            str(exported),
            "--drawings-copies",
            "2",
            "--cnn-epochs",
            "1",
            "--fnn-epochs",
            "1",
            "--uji-copies",
            "0",
            "--unipen-copies",
            "0",
            "--pendigits-copies",
            "0",
            "--per-style",
            "0",
            "--quiet",
            "--out",
            str(tmp_path / "models"),
        ]
    )
    [(batches, _)] = cnn_trainings
    images, targets = batches.images, batches.targets
    digits, copies = 70 + 8, 2 + train.PEN_COPIES  # canvas, distorted and pen copies of each
    inked = 2 * 5  # the 5 drawings stored with their strokes, re-drawn twice
    assert len(images) == digits * copies + inked + digits // 4  # ... and the non-digits
    for copy in range(copies):  # each copy of the 8 drawings follows MNIST's 70
        copied = slice(copy * digits + 70, (copy + 1) * digits)
        assert list(targets[copied].argmax(1)) == list(y)
    assert np.array_equal(images[70:digits], dataset.canvas_renderings(x))  # rendered as MNIST's digits are
    assert [pen["label"] for pen in drawn] == [label for _, label in collected]  # the corrections' ink ...
    for pen, sample in zip(drawn, strokes):  # ... as it was drawn (kept to a hundredth of a pixel)
        assert np.allclose([p for stroke in pen["strokes"] for p in stroke], sum(sample["strokes"], []), atol=0.005)
    redrawn = slice(digits * copies, digits * copies + inked)  # ... re-drawn as the pen sets' digits are
    assert list(targets[redrawn].argmax(1)) == [pen["label"] for pen in drawn] * 2
    seed = 51 + 1000 * len(data.PEN_SETS)  # the fourth pen set's, after UJI, UNIPEN and pendigits
    assert np.array_equal(images[redrawn], dataset.real_pen_drawings(drawn, 2, seed, train.SPARSE_SHARE))
