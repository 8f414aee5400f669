"""Stored state that was damaged (a garbage pointer, a version cut short or gone) is survived on both stores,
and a commit's answer tells the truth when the store fails around its compare-and-swap."""

import json

import pytest
from test_versions import learned, tiny

from conftest import drawing_url
from recognizer.state.drawings import counter_key
from recognizer.state.store import LocalStore, StoreUnavailable, open_store
from recognizer.state.versions import BASE_KEY, POINTER, ModelVersions, read_pointer


def overwrite(store, key, data):
    """Damage an object behind the store's back, as a bad manual edit or a partial upload would."""
    if isinstance(store, LocalStore):
        path = store.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    else:
        store.client.put_object(Bucket=store.bucket, Key=store.prefix + key, Body=data)


def remove(store, key):
    store.delete(key)


def three_versions(store):
    versions = ModelVersions(store, tiny())
    for _ in range(3):
        versions.commit(learned)
    return versions.history()


def cut_newest(store, keys):
    overwrite(store, keys[-1], store.get(keys[-1])[0][:100])


DAMAGE = {
    "garbage pointer": (lambda store, keys: overwrite(store, POINTER, b"\x00not a pointer"), 3),
    "newest version cut short": (cut_newest, 2),
    "newest version missing": (lambda store, keys: remove(store, keys[-1]), 2),
    "pointer missing": (lambda store, keys: remove(store, POINTER), 3),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damage_is_survived_and_the_pointer_repaired(store, damage):
    keys = three_versions(store)
    harm, served = DAMAGE[damage]
    harm(store, keys)
    versions = ModelVersions(store, tiny())
    assert versions.refresh().version == served  # the newest intact version
    assert versions.problems and any("newest intact" in line for line in versions.problems)
    pointer = read_pointer(store.get(POINTER)[0])  # repaired by compare-and-swap
    assert pointer["version"] == served and "repaired" in pointer
    assert versions.read_version(pointer["key"], pointer["sha256"])[0].version == served

    new = versions.commit(learned)  # learning goes on, with numbers never used
    assert new.version == 4 and new.history[-1]["version"] == 4
    seqs = [int(key.split("/")[1][:8]) for key in versions.history()]
    assert len(seqs) == len(set(seqs)) and max(seqs) == 4
    again = ModelVersions(store, tiny())
    assert again.refresh().version == 4 and again.problems == []


def test_no_intact_version_left_serves_the_originals(store):
    keys = three_versions(store)
    for key in keys:
        overwrite(store, key, b"garbage")
    overwrite(store, POINTER, b"{}")
    versions = ModelVersions(store, tiny())
    assert versions.refresh().version == 0 and "serving the originals" in versions.problems[-1]
    assert versions.commit(learned).version == 4  # 1-3 were used, if by damaged versions


def test_a_damaged_base_is_survived_and_learning_goes_on_over_a_new_one(store):
    three_versions(store)
    (base,) = [key for key in store.keys("models/") if BASE_KEY.match(key)]
    overwrite(store, base, store.get(base)[0][:100])
    versions = ModelVersions(store, tiny())
    assert versions.refresh().version == 0  # every version is over that base
    assert any(base in line for line in versions.problems) and "serving the originals" in versions.problems[-1]
    assert versions.commit(learned).version == 4
    assert len([key for key in store.keys("models/") if BASE_KEY.match(key)]) == 2
    again = ModelVersions(store, tiny())
    assert again.refresh().version == 4 and again.problems == []


def test_a_version_that_does_not_match_its_checksum_is_never_served(store):
    keys = three_versions(store)
    data = bytearray(store.get(keys[-1])[0])
    data[-200] ^= 0xFF  # one flipped byte deep in the weights
    overwrite(store, keys[-1], bytes(data))
    assert ModelVersions(store, tiny()).refresh().version == 2


class FlakySwap:
    """A store whose pointer swap lands, then its answer is lost (the connection dropped after sending)."""

    def __init__(self, store, reads_failing=0):
        self.store, self.reads_failing = store, reads_failing

    def __getattr__(self, name):
        return getattr(self.store, name)

    def swap(self, key, data, etag):
        self.store.swap(key, data, etag)
        raise StoreUnavailable("connection reset after the request was sent")

    def get(self, key):
        if self.reads_failing:
            self.reads_failing -= 1
            raise StoreUnavailable("read timed out")
        return self.store.get(key)


@pytest.mark.parametrize("reads_failing", [0, 2])
def test_a_swap_whose_answer_was_lost_is_resolved_by_reading_the_pointer_back(store, reads_failing):
    versions = ModelVersions(store, tiny())
    versions.commit(learned)
    versions.store = FlakySwap(store, reads_failing)
    assert versions.commit(learned).version == 2  # landed: a success, counted once
    assert ModelVersions(store, tiny()).refresh().version == 2


class FailsAfterTheSwap:
    """A store that stops answering right after a successful swap (pruning and the refresh after it fail)."""

    def __init__(self, store):
        self.store, self.swapped = store, False

    def __getattr__(self, name):
        if self.swapped and name in ("delete", "keys", "get_if_changed"):
            raise StoreUnavailable("S3 is unreachable")
        return getattr(self.store, name)

    def swap(self, key, data, etag):
        self.swapped = self.store.swap(key, data, etag)
        return self.swapped


def test_nothing_failing_after_a_successful_swap_turns_it_into_a_failure(store):
    versions = ModelVersions(store, tiny(), keep=1)
    versions.commit(learned)
    versions.store = FailsAfterTheSwap(store)
    assert versions.commit(learned).version == 2
    assert ModelVersions(store, tiny()).refresh().version == 2


def app_on(url):
    from web import create_app

    return create_app(
        {"TESTING": True, "STORE_URL": url, "TRAIN_RATE_LIMIT": "1000/minute", "MODEL_REFRESH_SECONDS": 0}
    )


@pytest.mark.parametrize("damage", ["garbage pointer", "newest version cut short"])
def test_a_worker_serves_through_damage_and_health_says_what_it_found(backend_url, strokes, damage):
    bodies = [{"image": drawing_url(sample), "digit": sample["label"]} for sample in strokes[:4]]
    writer = app_on(backend_url).test_client()
    for body in bodies[:3]:
        assert writer.post("/train", json=body).status_code == 200
    store = open_store(backend_url)
    DAMAGE[damage][0](store, ModelVersions(store, None).history())
    client = app_on(backend_url).test_client()  # a worker (re)started after the damage
    health = client.get("/health")
    assert health.status_code == 200 and health.get_json()["problems"]
    assert health.get_json()["model_version"] == DAMAGE[damage][1]
    predicted = client.post("/predict", json={"image": bodies[3]["image"]})
    assert predicted.status_code == 200
    assert predicted.get_json()["model_versions"]["cnn_updated"] == DAMAGE[damage][1]
    for worker in (client, writer):  # the new worker, and one that saw no damage
        trained = worker.post("/train", json=bodies[3])
        assert trained.status_code == 200
    assert trained.get_json()["model_version"] == 5  # 4 and 5: numbers never used before
    remembered = client.get("/health").get_json()["problems"]  # the pointer moved on past the damage ...
    assert remembered and remembered[0].endswith(health.get_json()["problems"][0].split(": ", 1)[1])  # ... still named


def test_a_retried_request_applies_once_and_gets_the_first_answer(client, strokes, store_url):
    body = {"image": drawing_url(strokes[0]), "digit": strokes[0]["label"], "request_id": "page-1-0-7"}
    first, again = client.post("/train", json=body), client.post("/train", json=body)
    assert first.status_code == again.status_code == 200 and first.get_json() == again.get_json()
    assert client.get("/stats").get_json()["corrections"] == 1
    assert client.get("/stats").get_json()["total_drawings"] == 1
    other = client.post("/train", json={**body, "request_id": "page-1-1-7"})
    assert other.get_json()["model_version"] == 2  # another request is another correction


def test_a_request_first_answered_503_is_learned_once_when_retried(app, client, strokes):
    body = {"image": drawing_url(strokes[0]), "digit": strokes[0]["label"], "request_id": "retry-me"}
    versions = app.extensions["recognizer"].versions
    swap = versions.store.swap
    unreachable = StoreUnavailable("S3 is unreachable")
    versions.store.swap = lambda key, *args: (_ for _ in ()).throw(unreachable) if key == POINTER else swap(key, *args)
    failed = client.post("/train", json=body)
    assert failed.status_code == 503 and failed.get_json()["sample_id"]
    assert client.get("/stats").get_json()["corrections"] == 0  # 503: not in the count
    versions.store.swap = swap
    retried = client.post("/train", json=body)
    assert retried.status_code == 200 and retried.get_json()["model_version"] == 1
    assert retried.get_json()["sample_id"] == failed.get_json()["sample_id"]  # the drawing kept, stored once
    stats = client.get("/stats").get_json()
    assert stats["corrections"] == 1 and stats["total_drawings"] == 1


@pytest.mark.parametrize("request_id", ["", "x" * 201, 5, "tab\there"])
def test_a_bad_request_id_is_a_400_and_stores_nothing(client, strokes, request_id):
    body = {"image": drawing_url(strokes[0]), "digit": 1, "request_id": request_id}
    response = client.post("/train", json=body)
    assert response.status_code == 400 and "request_id" in response.get_json()["error"]
    assert client.get("/stats").get_json()["total_drawings"] == 0


def test_check_lists_the_damage_and_repair_moves_the_pointer(backend_url, store, monkeypatch, capsys):
    from recognizer.commands import check

    keys = three_versions(store)
    monkeypatch.setenv("STORE_URL", backend_url)
    assert check.main([]) == 0 and "no problem(s) found" in capsys.readouterr().out
    cut_newest(store, keys)
    overwrite(store, "drawings/3/20260101T000000000000Z-0000000a.png", b"not a png")
    assert check.main([]) == 1
    out = capsys.readouterr().out
    assert f"damaged: {keys[-1]} does not match its sha256" in out and "names" in out and "drawings/3/" in out
    assert check.main(["--repair"]) == 1  # the pointer is repaired; the rest is reported
    out = capsys.readouterr().out
    assert "repair: models/current.json repaired" in out and "2 problem(s) left" in out
    assert read_pointer(store.get(POINTER)[0])["key"] == keys[-2]


def test_check_finds_a_counter_that_is_off_and_repair_counts_the_drawings_again(
    client, strokes, store_url, monkeypatch, capsys
):
    from recognizer.commands import check

    for sample in strokes[:3]:
        assert client.post("/samples", json={"image": drawing_url(sample), "digit": 3}).status_code == 201
    store = open_store(store_url)
    overwrite(store, counter_key(3), json.dumps({"count": 7, "once": []}).encode())  # a bad manual edit
    monkeypatch.setenv("STORE_URL", store_url)
    assert check.main([]) == 1 and "counts/3.json counts 7 drawings of 3, 3 are stored" in capsys.readouterr().out
    assert check.main(["--repair"]) == 0 and "repair: counts/3.json set to 3" in capsys.readouterr().out
    assert client.get("/stats").get_json()["drawings"]["3"] == 3
