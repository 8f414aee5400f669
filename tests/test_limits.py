"""Rate limits on /train and /samples: JSON 429 with Retry-After, held across gunicorn workers by the SQLite
storage in web/limits.py."""

import multiprocessing
import time
from pathlib import Path

import pytest
import requests

from conftest import drawing_url, gunicorn
from web import create_app
from web.limits import SQLiteStorage, default_storage_uri


def limited_app(tmp_path, limit="3/minute", **config):
    return create_app(
        {
            "TESTING": True,
            "STORE_URL": f"file://{tmp_path / 'store'}",
            "TRAIN_RATE_LIMIT": limit,
            "MODEL_REFRESH_SECONDS": 0,
            **config,
        }
    )


def assert_429(response):
    """A requests.Response that is a JSON 429 with Retry-After."""
    assert response.status_code == 429
    assert response.headers["Content-Type"].startswith("application/json")
    assert "too many requests" in response.json()["error"]
    assert int(response.headers["Retry-After"]) > 0


def test_the_default_storage_is_a_sqlite_file_next_to_a_local_store(tmp_path):
    app = limited_app(tmp_path)
    assert app.config["RATELIMIT_STORAGE_URI"] == f"sqlite://{tmp_path / 'store-ratelimits.sqlite'}"
    assert default_storage_uri("s3://bucket/prefix").endswith("/tmp/ratelimits.sqlite")
    assert default_storage_uri("").endswith("/tmp/ratelimits.sqlite")


def test_429_through_the_test_client_is_json_with_retry_after(tmp_path, strokes):
    client = limited_app(tmp_path, "3/minute").test_client()
    body = {"image": drawing_url(strokes[0]), "digit": strokes[0]["label"]}
    statuses = [client.post("/samples", json=body).status_code for _ in range(3)]
    assert statuses == [201, 201, 201]
    response = client.post("/samples", json=body)
    assert response.status_code == 429 and response.mimetype == "application/json"
    assert "too many requests" in response.get_json()["error"]
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert len(list((tmp_path / "store" / "drawings").rglob("*.png"))) == 3  # the refused one is not kept
    # /train has its own allowance; /predict and /health are not limited
    assert client.post("/train", json={"image": "x", "digit": 3}).status_code == 400
    assert all(client.post("/predict", json={"image": body["image"]}).status_code == 200 for _ in range(5))
    assert client.get("/health").status_code == 200


def test_bad_requests_count_against_the_limit_too(tmp_path):
    """Flooding with junk is limited the same as flooding with drawings."""
    client = limited_app(tmp_path, "2/minute").test_client()
    assert [client.post("/train", data="junk", content_type="text/plain").status_code for _ in range(3)] == [
        415,
        415,
        429,
    ]


@pytest.mark.parametrize("hops, separate", [(0, False), (1, True)])
def test_behind_a_router_each_forwarded_client_has_its_own_limit(tmp_path, hops, separate):
    """With PROXY_HOPS=1 (Heroku) the limit keys on X-Forwarded-For; without it, on the router's address."""
    client = limited_app(tmp_path, "2/minute", PROXY_HOPS=hops).test_client()
    junk = {"data": "junk", "content_type": "text/plain"}
    first = [client.post("/samples", headers={"X-Forwarded-For": "203.0.113.7"}, **junk).status_code for _ in range(3)]
    other = client.post("/samples", headers={"X-Forwarded-For": "198.51.100.9"}, **junk).status_code
    assert first == [415, 415, 429]
    assert other == (415 if separate else 429)


def test_an_explicit_storage_uri_is_honoured(tmp_path):
    app = limited_app(tmp_path, RATELIMIT_STORAGE_URI="memory://")
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert not (tmp_path / "store-ratelimits.sqlite").exists()


# ---------------------------------------------------------------------------------------------- the storage
def test_sqlite_storage_counts_expires_and_clears(tmp_path):
    storage = SQLiteStorage(f"sqlite://{tmp_path / 'limits.sqlite'}")
    assert storage.check()
    assert [storage.incr("k", 1) for _ in range(3)] == [1, 2, 3]
    assert storage.get("k") == 3 and storage.get("other") == 0
    assert time.time() < storage.get_expiry("k") <= time.time() + 1
    time.sleep(1.05)
    assert storage.get("k") == 0 and storage.incr("k", 60) == 1  # a new window after expiry
    storage.clear("k")
    assert storage.get("k") == 0
    storage.incr("a", 60)
    storage.incr("b", 60)
    assert storage.reset() == 2 and storage.get("a") == 0


def test_sqlite_storage_rejects_a_uri_without_a_path():
    with pytest.raises(ValueError, match="absolute file path"):
        SQLiteStorage("sqlite://")


def _hammer(path, n):
    storage = SQLiteStorage(f"sqlite://{path}")
    return [storage.incr("shared", 60) for _ in range(n)]


def test_sqlite_storage_is_exact_across_processes(tmp_path):
    """4 processes x 50 increments: every count from 1 to 200 is handed out exactly once."""
    path = tmp_path / "limits.sqlite"
    SQLiteStorage(f"sqlite://{path}")
    with multiprocessing.get_context("fork").Pool(4) as pool:
        results = pool.starmap(_hammer, [(path, 50)] * 4)
    assert sorted(c for counts in results for c in counts) == list(range(1, 201))


def _open_at_once(path, barrier, errors):
    barrier.wait()
    try:
        SQLiteStorage(f"sqlite://{path}")
    except Exception as error:  # reported to the parent, which asserts there were none
        errors.put(repr(error))


def test_workers_opening_a_new_storage_at_once_all_start(tmp_path):
    """8 processes at a barrier open one fresh file, 60 times over: none fails with "database is locked" (SQLite
    answers the race to switch the journal mode at once, not after its timeout; gunicorn workers start like this)."""
    fork = multiprocessing.get_context("fork")
    errors = fork.Queue()
    for trial in range(60):
        barrier = fork.Barrier(8)
        workers = [
            fork.Process(target=_open_at_once, args=(tmp_path / f"{trial}.sqlite", barrier, errors)) for _ in range(8)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert [worker.exitcode for worker in workers] == [0] * 8
    assert errors.empty()


# ---------------------------------------------------------------------------------------------- real gunicorn
def test_limit_holds_across_gunicorn_workers(tmp_path, strokes):
    """3 workers, 5/minute: of 12 /samples from one client (a new connection each, so several workers serve
    them), exactly 5 are accepted and the rest are JSON 429s with Retry-After."""
    env = {"STORE_URL": f"file://{tmp_path / 'store'}", "TRAIN_RATE_LIMIT": "5/minute"}
    with gunicorn(env, workers=3) as base:
        responses = []
        for sample in strokes[:12]:
            responses.append(
                requests.post(
                    base + "/samples", timeout=30, json={"image": drawing_url(sample), "digit": sample["label"]}
                )
            )
        statuses = [r.status_code for r in responses]
        assert statuses.count(201) == 5 and statuses.count(429) == 7, statuses
        assert statuses[:5] == [201] * 5
        for response in responses[5:]:
            assert_429(response)
        assert requests.get(base + "/health", timeout=5).status_code == 200
    assert len(list(Path(tmp_path / "store" / "drawings").rglob("*.png"))) == 5
