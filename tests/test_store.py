"""One suite for both stores: a local directory and S3 (moto over HTTP) must behave the same."""

import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import ROOT, free_port
from recognizer.state import drawings
from recognizer.state import store as store_module
from recognizer.state.store import LocalStore, S3Store, StoreUnavailable, open_store

COUNTER = "models/counter.json"
# A child process that adds 1 to the counter `times` times by compare-and-swap, retrying lost races.
INCREMENT = """
import sys
sys.path.insert(0, "tests")
from recognizer.state.store import open_store
from test_store import increment
store = open_store(sys.argv[1])
for _ in range(int(sys.argv[2])):
    increment(store)
"""


def increment(store):
    """Read the counter and write it plus one, only if nobody wrote in between; return the retries it took."""
    retries = 0
    while True:
        try:
            data, etag = store.get(COUNTER)
            value = json.loads(data)["n"]
        except KeyError:
            etag, value = None, 0
        if store.swap(COUNTER, json.dumps({"n": value + 1}).encode(), etag):
            return retries
        retries += 1


def test_open_store_picks_the_backend(tmp_path):
    assert isinstance(open_store(f"file://{tmp_path}"), LocalStore)
    s3 = open_store("s3://bucket/some/prefix/")
    assert isinstance(s3, S3Store) and (s3.bucket, s3.prefix) == ("bucket", "some/prefix/")
    with pytest.raises(ValueError):
        open_store("ftp://elsewhere")


def test_put_new_never_overwrites(store):
    store.put_new("drawings/3/a.png", b"first")
    with pytest.raises(FileExistsError):
        store.put_new("drawings/3/a.png", b"second")
    assert store.get("drawings/3/a.png")[0] == b"first"


def test_get_missing_is_key_error(store):
    with pytest.raises(KeyError):
        store.get("drawings/3/missing.png")
    with pytest.raises(KeyError):
        store.get_if_changed("drawings/3/missing.png", None)


def test_get_if_changed(store):
    store.put_new("a/b.json", b"one")
    data, etag = store.get("a/b.json")
    assert store.get_if_changed("a/b.json", etag) is None
    assert store.get_if_changed("a/b.json", None) == (data, etag)
    assert store.swap("a/b.json", b"two", etag)
    changed = store.get_if_changed("a/b.json", etag)
    assert changed is not None and changed[0] == b"two" and changed[1] != etag


def test_swap_is_compare_and_swap(store):
    assert store.swap(COUNTER, b"v1", None)  # absent: only an absent-expecting swap wins
    assert not store.swap(COUNTER, b"v1-again", None)
    data, first = store.get(COUNTER)
    assert data == b"v1"
    assert store.swap(COUNTER, b"v2", first)
    assert not store.swap(COUNTER, b"v3", first)  # a stale etag is refused
    assert store.get(COUNTER)[0] == b"v2"
    assert not store.swap("models/absent.json", b"x", first)  # an etag for an absent key is refused too


def test_keys_with_prefix_and_delete(store):
    for key in ("drawings/1/b.png", "drawings/1/a.png", "drawings/2/c.png", "models/x.npz"):
        store.put_new(key, b"x")
    assert store.keys("drawings/") == ["drawings/1/a.png", "drawings/1/b.png", "drawings/2/c.png"]
    assert store.keys("drawings/1/") == ["drawings/1/a.png", "drawings/1/b.png"]
    assert store.keys("nothing/") == []
    store.delete("drawings/1/a.png")
    store.delete("drawings/1/a.png")  # absent is fine
    assert store.keys("drawings/1/") == ["drawings/1/b.png"]
    store.put_new("drawings/1/a.png", b"again")  # a deleted key can be written anew
    store.check()


def test_delete_many(store, monkeypatch):
    monkeypatch.setattr(store_module, "DELETE_AT_ONCE", 2)  # S3's batches of 1000, in small
    keys = [f"queue/{i}.npz" for i in range(5)]
    for key in keys + ["queue/kept.npz"]:
        store.put_new(key, b"x")
    store.delete_many(keys[1:] + ["queue/absent.npz"])  # absent is fine
    assert store.keys("queue/") == ["queue/0.npz", "queue/kept.npz"]
    store.delete_many([])


def test_keys_pages_through_long_listings(backend_url):
    store = open_store(backend_url)
    keys = [f"drawings/5/{i:04d}.png" for i in range(1005)]  # S3 lists at most 1000 keys per call
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key: store.put_new(key, b"x"), keys))
    assert store.keys("drawings/") == keys


def test_concurrent_increments_in_threads_lose_nothing(backend_url):
    stores = [open_store(backend_url) for _ in range(8)]  # one client each, like separate workers
    with ThreadPoolExecutor(8) as pool:
        retries = sum(pool.map(lambda i: sum(increment(stores[i % 8]) for _ in range(10)), range(8)))
    assert json.loads(stores[0].get(COUNTER)[0]) == {"n": 80}
    print(f"80 increments in 8 threads: {retries} lost races retried")


def test_concurrent_increments_in_processes_lose_nothing(backend_url):
    processes = [subprocess.Popen([sys.executable, "-c", INCREMENT, backend_url, "10"], cwd=ROOT) for _ in range(4)]
    assert all(p.wait(120) == 0 for p in processes)
    assert json.loads(open_store(backend_url).get(COUNTER)[0]) == {"n": 40}


def test_a_counter_swap_that_landed_though_its_answer_was_lost_counts_once(backend_url, monkeypatch):
    """S3 clients retry a write whose answer they lost and meet 412: the swap reports failure though it landed.
    The counter knows its own write again, even after another writer's, so each drawing is counted once."""
    store, other = open_store(backend_url), open_store(backend_url)
    swap, lost = store.swap, iter([True, False, True])

    def answer_sometimes_lost(key, data, etag):
        written = swap(key, data, etag)
        if next(lost, False):
            drawings.count(other, 3)  # another worker counts meanwhile
            return None
        return written

    monkeypatch.setattr(store, "swap", answer_sometimes_lost)
    for _ in range(3):
        drawings.count(store, 3)
    drawings.count(store, 3, once="retried-request")
    assert drawings.counts(store)["3"] == 4 + 2


def test_local_temp_files_are_never_keys(tmp_path):
    store = LocalStore(tmp_path)
    store.put_new("models/a.npz", b"x")
    store.swap("models/current.json", b"p", None)
    (tmp_path / "models" / ".tmp-half-written").write_bytes(b"partial")
    assert store.keys("models/") == ["models/a.npz", "models/current.json"]


def test_local_keys_cannot_escape_the_root(tmp_path):
    with pytest.raises(ValueError):
        LocalStore(tmp_path / "store").put_new("../outside", b"x")


def test_local_store_unwritable_is_unavailable(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(StoreUnavailable):
        LocalStore(tmp_path / "file" / "store").check()


def dead_store(endpoint, monkeypatch):
    """An S3Store configured exactly as the app configures it, aimed at `endpoint`."""
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    return open_store("s3://bucket/app")


CALLS = {
    "put_new": lambda store: store.put_new("a", b"x"),
    "get": lambda store: store.get("a"),
    "get_if_changed": lambda store: store.get_if_changed("a", None),
    "swap": lambda store: store.swap("a", b"x", None),
    "keys": lambda store: store.keys("drawings/"),
    "delete": lambda store: store.delete("a"),
    "delete_many": lambda store: store.delete_many(["a", "b"]),
    "check": lambda store: store.check(),
}


@pytest.mark.parametrize("call", CALLS)
def test_s3_closed_port_fails_fast(call, monkeypatch):
    store = dead_store(f"http://127.0.0.1:{free_port()}", monkeypatch)
    start = time.monotonic()
    with pytest.raises(StoreUnavailable, match="unreachable"):
        CALLS[call](store)
    assert time.monotonic() - start < 10


def test_s3_silent_endpoint_times_out_then_fails_at_once_for_a_while(monkeypatch):
    """A server that accepts connections but never answers (a hung or paused store) must not hang a worker."""
    monkeypatch.setattr(store_module, "OUTAGE_PAUSE", 1.0)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        store = dead_store(f"http://127.0.0.1:{listener.getsockname()[1]}", monkeypatch)
        start = time.monotonic()
        with pytest.raises(StoreUnavailable, match="unreachable"):
            store.get("a")
        assert time.monotonic() - start < 10
        start = time.monotonic()
        with pytest.raises(StoreUnavailable, match="a moment ago"):
            store.put_new("a", b"x")
        assert time.monotonic() - start < 0.5
    time.sleep(1.0)
    with pytest.raises(StoreUnavailable, match="unreachable"):  # after the pause it asks S3 again
        store.check()


def test_local_store_that_cannot_write_is_unavailable_not_a_crash(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    store = LocalStore(blocker / "store")
    with pytest.raises(StoreUnavailable):
        store.put_new("drawings/1/x.png", b"png")
    with pytest.raises(StoreUnavailable):
        store.check()


def test_local_store_errors_beyond_a_missing_or_taken_key_are_unavailable(tmp_path, monkeypatch):
    store = LocalStore(tmp_path / "store")
    store.put_new("drawings/1/x.png", b"png")

    def denied(*_):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("os.link", denied)
    with pytest.raises(StoreUnavailable, match="Permission denied"):
        store.put_new("drawings/1/y.png", b"png")
    monkeypatch.setattr("pathlib.Path.read_bytes", denied)
    with pytest.raises(StoreUnavailable, match="Permission denied"):
        store.get("drawings/1/x.png")


def test_s3_refusing_the_credentials_is_unavailable_not_a_crash(s3_env, monkeypatch):
    """moto accepts any key, so S3's answer to a revoked one is played by the client: a 403 ClientError."""
    from botocore.exceptions import ClientError

    store = open_store(s3_env[1])

    def refused(**kwargs):
        raise ClientError(
            {"Error": {"Code": "InvalidAccessKeyId"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "PutObject"
        )

    monkeypatch.setattr(store.client, "put_object", refused)
    with pytest.raises(StoreUnavailable, match="InvalidAccessKeyId"):
        store.put_new("drawings/1/x.png", b"png")
