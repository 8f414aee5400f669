"""ModelVersions on both stores: commits, refreshes, lost races re-applied, pruning, history, killed writers."""

import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import replace

import numpy as np
import pytest

from conftest import ROOT, drawing_url
from recognizer.learning.online import UpdatedModels
from recognizer.nets import weights
from recognizer.nets.cnn import ConvNet
from recognizer.nets.fnn import FNN
from recognizer.state.store import LocalStore, open_store
from recognizer.state.versions import BASE_KEY, POINTER, VERSION_KEY, Contended, ModelVersions, host_lock

# A writer that refreshes, then starts committing a big version and stalls half-way through writing it.
STALLED_WRITER = """
import io, sys, time
import numpy as np
sys.path.insert(0, "tests")
from recognizer.state.store import LocalStore, open_store
from recognizer.state.versions import ModelVersions
from test_versions import learned, tiny

def stall():
    print("writing", flush=True)
    time.sleep(120)

class StallingBody(io.BytesIO):
    def read(self, size=-1):
        if self.tell():
            stall()
        return super().read(16384)

def stalling_temp(self, path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / ".tmp-partial", "wb") as f:
        f.write(data[:len(data) // 2])
        f.flush()
        stall()

store = open_store(sys.argv[1])
if isinstance(store, LocalStore):
    LocalStore._temp = stalling_temp
else:
    put_object = store.client.put_object
    store.client.put_object = lambda Body, **kwargs: put_object(Body=StallingBody(Body), **kwargs)
big = np.full((4000, 28, 28), 7, dtype=np.uint8)
ModelVersions(store, tiny()).commit(lambda state: learned(state, recent_x=big))
"""


def tiny():
    """Stand-in updated models: ModelVersions only stores and loads them, so the weights' size does not matter."""
    fnn = FNN({name: np.zeros((2, 2)) for name in FNN.names})
    return UpdatedModels(0, fnn, ConvNet({name: np.zeros((2, 2)) for name in ConvNet.names}))


def learned(state, tag="", **changes):
    """What one accepted correction does to the version: one more, and a line in the history."""
    return replace(
        state,
        version=state.version + 1,
        history=state.history + [{"version": state.version + 1, "tag": tag}],
        **changes,
    )


def test_a_version_holds_float16_differences_from_a_base_a_fraction_of_the_weights(backend_url, store):
    fnn, cnn = weights.load_models(weights.SHIPPED)
    originals, rng = UpdatedModels(0, fnn, cnn), np.random.default_rng(0)
    versions = ModelVersions(store, originals)

    def nudged(state):  # the FNN and the CNN's largest layer move a little (more than learning moves)
        head = {**state.cnn.params, "dense1_w": state.cnn.params["dense1_w"] + rng.normal(0, 1e-3, (1568, 625))}
        return learned(
            state,
            fnn=FNN({k: v + rng.normal(0, 1e-3, v.shape) for k, v in state.fnn.params.items()}),
            cnn=ConvNet(head),
        )

    exact = nudged(originals)
    versions.commit(lambda state: exact)
    for _ in range(2):
        versions.commit(nudged)
    full = len(originals.to_bytes())
    sizes = [len(store.get(key)[0]) for key in versions.history()]
    assert len(sizes) == 3 and max(sizes) < full / 2
    assert len([key for key in store.keys("models/") if BASE_KEY.match(key)]) == 1
    reader = ModelVersions(open_store(backend_url), originals).refresh()  # what a worker downloads is what was learned
    assert reader.version == 3
    for name in ("W1", "b2"):
        np.testing.assert_array_equal(reader.fnn.params[name], versions.state.fnn.params[name])
    np.testing.assert_array_equal(reader.cnn.params["dense1_w"], versions.state.cnn.params["dense1_w"])
    np.testing.assert_allclose(
        ModelVersions(store, originals).read_version(versions.history()[0])[0].fnn.params["W1"],
        exact.fnn.params["W1"],
        atol=2e-6,
    )  # float16 of a difference of 1e-3: 1e-6 off


def test_nothing_committed_means_the_originals(store):
    originals = tiny()
    versions = ModelVersions(store, originals)
    assert versions.refresh() is originals and versions.history() == []


def test_commit_then_refresh_elsewhere(store):
    writer, reader = ModelVersions(store, tiny()), ModelVersions(store, tiny())
    for _ in range(3):
        assert writer.commit(learned).version == writer.state.version
    assert writer.state.version == 3
    seen = reader.refresh()
    assert seen.version == 3 and [h["version"] for h in seen.history] == [1, 2, 3]
    assert reader.refresh() is seen  # unchanged pointer: nothing is downloaded again
    pointer = json.loads(store.get(POINTER)[0])
    assert pointer["version"] == 3 and pointer["key"] == writer.history()[-1]


def test_loser_of_the_race_reapplies_on_top(store):
    """A, having read version 0, loses the swap to B; it reloads version 1 and learns its correction on top."""
    a, b = ModelVersions(store, tiny()), ModelVersions(store, tiny())
    seen = []

    def change(state):
        seen.append(state.version)
        if len(seen) == 1:
            b.commit(lambda s: learned(s, "b"))  # B finishes while A is still computing
        return learned(state, "a")

    result = a.commit(change)
    assert seen == [0, 1]
    assert result.version == 2 and [h["tag"] for h in result.history] == ["b", "a"]
    assert len(a.history()) == 2  # A's losing attempt left no version behind


def test_a_change_another_writer_overtook_is_never_written(store, monkeypatch):
    """Before writing its version, a writer checks that the pointer is still where it read it: one overtaken
    while it learned learns again on top, without first writing (and deleting) a version that cannot win."""
    a, b = ModelVersions(store, tiny()), ModelVersions(store, tiny())
    written, put_new = [], store.put_new
    monkeypatch.setattr(store, "put_new", lambda key, data: (written.append(key), put_new(key, data))[1])

    def change(state):
        if state.version == 0:
            b.commit(lambda s: learned(s, "b"))
            written.clear()  # B's own version
        return learned(state, "a")

    assert a.commit(change).version == 2
    assert len([key for key in written if VERSION_KEY.match(key)]) == 1


def test_a_refresh_in_another_thread_cannot_slip_between_a_commits_reads(store):
    here, elsewhere = ModelVersions(store, tiny()), ModelVersions(store, tiny())
    refresh, slipped = here.refresh, []

    def refresh_while_a_reader_slips_in():
        state = refresh()
        if not slipped:  # once: another machine commits, and a /predict thread of
            slipped.append(True)  # this worker refreshes before the commit reads the ETag
            elsewhere.commit(learned)
            reader = threading.Thread(target=refresh)
            reader.start()
            reader.join(timeout=1)
        return state

    here.refresh = refresh_while_a_reader_slips_in
    here.commit(learned)
    assert here.refresh().version == 2 and len(here.state.history) == 2  # both corrections, none lost


def test_always_losing_gives_up_as_contended(store):
    a, b = ModelVersions(store, tiny(), attempts=3), ModelVersions(store, tiny())

    def change(state):
        b.commit(learned)
        return learned(state, "a")

    with pytest.raises(Contended):
        a.commit(change)
    assert [h["tag"] for h in ModelVersions(store, tiny()).refresh().history] == ["", "", ""]


def test_a_swap_reported_lost_that_landed_counts_as_won(backend_url, store):
    """An S3 retry can see its own first attempt as a conflict; the version it published must not be deleted."""
    swap = store.swap
    store.swap = lambda key, data, etag: swap(key, data, etag) and False
    versions = ModelVersions(store, tiny())
    assert versions.commit(learned).version == 1
    assert ModelVersions(open_store(backend_url), tiny()).refresh().version == 1


def test_a_version_read_from_the_store_shares_the_originals_frozen_layers(backend_url, store):
    fnn, cnn = weights.load_models(weights.SHIPPED)
    originals = UpdatedModels(0, fnn, cnn)
    taught = cnn.copy()  # what learning does to the CNN: its output layer moves
    taught.params["dense2_w"] += 0.01
    ModelVersions(store, originals).commit(lambda state: learned(state, cnn=taught))
    read = ModelVersions(open_store(backend_url), originals).refresh()  # another worker, from the bytes
    assert read.version == 1 and read.cnn.same_features(cnn)
    assert all(read.cnn.params[name] is cnn.params[name] for name in ("conv1_w", "conv2_b", "dense1_w", "dense1_b"))
    np.testing.assert_allclose(read.cnn.params["dense2_w"], taught.params["dense2_w"], atol=1e-4)


def test_prune_keeps_the_newest(store):
    versions = ModelVersions(store, tiny(), keep=3)
    for _ in range(6):
        versions.commit(learned)
    history = versions.history()
    assert len(history) == 3 and history == sorted(history)
    assert json.loads(store.get(POINTER)[0])["key"] == history[-1]
    assert [k.split("-")[1] for k in history] == ["v00000004", "v00000005", "v00000006"]


def test_keeping_one_version_keeps_the_current_one_and_none_is_refused(store):
    versions = ModelVersions(store, tiny(), keep=1)
    for _ in range(3):
        versions.commit(learned)
    assert versions.history() == [json.loads(store.get(POINTER)[0])["key"]]
    with pytest.raises(ValueError, match="at least the current"):
        ModelVersions(store, tiny(), keep=0)  # keeping none would delete the current version


def test_prune_after_a_reset_keeps_the_reset_version(store):
    """A reset publishes version 0 again; history is in commit order, so pruning must not take the current one."""
    versions = ModelVersions(store, tiny(), keep=2)
    for _ in range(4):
        versions.commit(learned)
    versions.commit(lambda state: replace(tiny(), history=state.history + [{"reset": True}]))
    versions.commit(learned)
    fresh = ModelVersions(store, tiny())
    assert fresh.refresh().version == 1 and fresh.state.history[-2] == {"reset": True}
    assert [k.split("-")[1] for k in versions.history()] == ["v00000000", "v00000001"]


def test_refresh_rereads_when_the_version_was_pruned_meanwhile(backend_url, store):
    writer, reader = ModelVersions(open_store(backend_url), tiny(), keep=1), ModelVersions(store, tiny())
    writer.commit(learned)
    get = store.get

    def get_racing_a_prune(key):
        if key.endswith(".npz") and writer.state.version < 2:
            writer.commit(learned)  # the version the pointer named is gone now
        return get(key)

    store.get = get_racing_a_prune
    assert reader.refresh().version == 2


def test_a_pointer_to_a_missing_version_with_none_left_serves_the_originals(store):
    store.swap(POINTER, json.dumps({"version": 1, "seq": 1, "key": "models/gone.npz"}).encode(), None)
    versions = ModelVersions(store, tiny(), attempts=2)
    assert versions.refresh().version == 0 and "models/gone.npz" in versions.problems[0]
    assert versions.commit(learned).version == 2  # above the version the pointer named


def test_a_local_store_keeps_its_commit_lock_inside_itself(tmp_path):
    store = LocalStore(tmp_path / "store")
    lock = host_lock(store)
    ModelVersions(store, tiny(), lock=lock).commit(learned)
    assert lock == tmp_path / "store" / "commit.lock" and lock.exists()  # removed with the store, not left in /tmp
    assert store.keys("") and not [key for key in store.keys("") if "lock" in key]


def test_keep_comes_from_model_versions_kept(monkeypatch, tmp_path):
    from web import create_app

    monkeypatch.setenv("MODEL_VERSIONS_KEPT", "3")
    app = create_app({"TESTING": True, "STORE_URL": f"file://{tmp_path / 'store'}"})
    assert app.extensions["recognizer"].versions.keep == 3


def test_a_writer_killed_mid_write_leaves_the_previous_version(backend_url, store):
    versions = ModelVersions(store, tiny())
    versions.commit(learned)
    before = store.keys("models/")
    env = {**os.environ, "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required"}  # stream the body as it is read
    child = subprocess.Popen(
        [sys.executable, "-c", STALLED_WRITER, backend_url], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline() == "writing\n"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    if backend_url.startswith("file://"):
        assert list((store.root / "models").glob(".tmp-*"))  # the half-written file is there, but is no key
    assert store.keys("models/") == before
    fresh = ModelVersions(open_store(backend_url), tiny())
    assert fresh.refresh().version == 1
    assert fresh.commit(learned).version == 2
    assert ModelVersions(store, tiny()).refresh().history[-1]["version"] == 2


def test_admin_versions_lists_the_history(client, strokes):
    assert client.get("/admin/versions").status_code == 401
    assert client.get("/admin/versions", headers={"Authorization": "Bearer wrong"}).status_code == 401
    admin = {"Authorization": "Bearer test-admin-token"}
    assert client.get("/admin/versions", headers=admin).get_json() == {"model_version": 0, "versions": []}
    for sample in strokes[:2]:
        assert client.post("/train", json={"image": drawing_url(sample), "digit": sample["label"]}).status_code == 200
    body = client.get("/admin/versions", headers=admin).get_json()
    assert body["model_version"] == 2 and len(body["versions"]) == 2
    assert [key.split("-")[1] for key in body["versions"]] == ["v00000001", "v00000002"]
