"""The app as deployed on S3: gunicorn workers and servers share one bucket (moto over HTTP); nothing is lost."""

import json
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
import requests
from faults import FaultProxy

from conftest import drawing_url, gunicorn, start_moto, stop, wait_until
from recognizer.state.store import OUTAGE_PAUSE, RETRY_WITHIN, open_store
from recognizer.state.versions import POINTER, ModelVersions

pytestmark = pytest.mark.timeout(300)  # real servers: these take a while


def app_env(s3_env, **extra):
    env, url = s3_env
    return {
        **env,
        "STORE_URL": url,
        "TRAIN_RATE_LIMIT": "100000/minute",
        "MODEL_REFRESH_SECONDS": "0.2",
        "ADMIN_TOKEN": "admin",
        **extra,
    }


def labelled(sample):
    return {"image": drawing_url(sample), "digit": sample["label"]}


def post(base, route, body, timeout=60):
    return requests.post(base + route, json=body, timeout=timeout)


def health_version(base):
    return requests.get(base + "/health", timeout=10).json()["model_version"]


def drawings(store):
    """Stored drawings as {sample_id: set of extensions}."""
    found = {}
    for key in store.keys("drawings/"):
        sample_id, extension = key.rsplit("/", 1)[1].rsplit(".", 1)
        found.setdefault(sample_id, set()).add(extension)
    return found


def current(store):
    """The version the pointer names, read straight from the store."""
    pointer = json.loads(store.get(POINTER)[0])
    return pointer, ModelVersions(store, None).read_version(pointer["key"], pointer["sha256"])[0]


def test_200_concurrent_corrections_on_4_workers_all_count(s3_env, learnable_strokes):
    """Every accepted /train raises model_version by exactly one, whichever worker or server served it."""
    env = app_env(s3_env)
    bodies = [labelled(sample) for sample in learnable_strokes[:200]]
    with gunicorn(env, workers=4) as base, gunicorn(env, workers=1) as other:
        start = time.monotonic()
        with ThreadPoolExecutor(24) as pool:
            responses = list(pool.map(lambda body: post(base, "/train", body), bodies))
        took = time.monotonic() - start
        failures = [(r.status_code, r.text[:200]) for r in responses if r.status_code != 200]
        assert failures == []
        assert max(r.json()["model_version"] for r in responses) == 200

        store = open_store(env["STORE_URL"])
        stored = drawings(store)
        assert len(stored) == 200 and all(ext == {"png", "json"} for ext in stored.values())
        assert {r.json()["sample_id"] for r in responses} == set(stored)
        pointer, state = current(store)
        assert pointer["version"] == state.version == 200
        corrections = [h for h in state.history if "right" in h]
        assert [h["version"] for h in corrections] == list(range(1, 201))
        assert sorted(h["digit"] for h in corrections) == sorted(body["digit"] for body in bodies)

        stats = requests.get(base + "/stats", timeout=10).json()
        assert stats["total_drawings"] == 200 and stats["corrections"] == 200
        wait_until(lambda: health_version(other) == 200, 10, "the other server seeing version 200")

        response = post(other, "/train", bodies[0])  # and the other way round
        assert response.status_code == 200 and response.json()["model_version"] == 201
        wait_until(lambda: all(health_version(base) == 201 for _ in range(8)), 10, "all workers seeing 201")
        print(f"200 concurrent /train on 4 workers: {took:.1f} s, {200 / took:.1f}/s")


@pytest.fixture
def own_moto():
    """A moto server only this test uses, so pausing it harms no other test; yields (process, env, STORE_URL)."""
    process, endpoint = start_moto()
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        bucket = f"digits-{uuid.uuid4().hex[:12]}"
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        ).create_bucket(Bucket=bucket)
        yield process, env, f"s3://{bucket}/app"
    finally:
        process.send_signal(signal.SIGCONT)
        stop(process)


def timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def test_store_outage_predict_keeps_answering_and_writes_fail_fast(own_moto, strokes, monkeypatch):
    """With the store paused, /predict answers from memory, writes answer 503 quickly, /health stays 200
    (the models still serve); once the store is back the app recovers by itself and nothing is corrupt."""
    moto, env, url = own_moto
    with gunicorn(app_env((env, url)), workers=1) as base:  # one worker: it surely holds version 4
        for sample in strokes[:4]:
            assert post(base, "/train", labelled(sample)).status_code == 200
        moto.send_signal(signal.SIGSTOP)  # hangs every connection: worse than refused
        times = {}
        try:
            for sample in strokes[4:8]:
                response, took = timed(lambda sample=sample: post(base, "/predict", {"image": drawing_url(sample)}))
                assert response.status_code == 200 and took < 10
                assert response.json()["model_versions"]["fnn_updated"] == 4
                times.setdefault("/predict", []).append(round(took, 1))
            for route in ("/train", "/samples", "/train"):
                response, took = timed(lambda route=route: post(base, route, labelled(strokes[8])))
                assert response.status_code == 503 and took < 10
                assert "store is unreachable" in response.json()["error"]
                times.setdefault(route, []).append(round(took, 1))
            response, took = timed(lambda: requests.get(base + "/stats", timeout=30))
            assert response.status_code == 503 and took < 10
            assert requests.get(base + "/health", timeout=30).status_code == 200
        finally:
            moto.send_signal(signal.SIGCONT)

        # A request already waiting on S3 when it came back may still have timed out just after: the worker then
        # fails fast for OUTAGE_PAUSE from that moment, not from ours. It asks the store again by itself after that.
        ok = lambda: requests.get(base + "/stats", timeout=30).status_code == 200
        wait_until(ok, timeout=OUTAGE_PAUSE + RETRY_WITHIN, what="the store, seen from the worker,")
        for sample in strokes[9:15]:  # and has recovered by itself
            response = post(base, "/train", labelled(sample))
            assert response.status_code == 200, response.text
        accepted = 4 + 6

        for key, value in env.items():
            monkeypatch.setenv(key, value)
        store = open_store(url)
        pointer, state = current(store)
        assert pointer["version"] == state.version == accepted  # no 503 slipped a version in
        assert [h["version"] for h in state.history] == list(range(1, accepted + 1))
        stored = drawings(store)
        assert all("png" in extensions for extensions in stored.values())  # no metadata without its drawing
        assert sum(extensions == {"png", "json"} for extensions in stored.values()) >= accepted
        print(f"seconds per request with the store paused: {times}")


def test_train_whose_weight_update_fails_keeps_the_drawing(s3_env, strokes):
    """Drawings are written first: an update that cannot be stored answers 503 and the drawing is kept."""
    env = app_env(s3_env)
    store = open_store(env["STORE_URL"])
    writing_models = lambda method, path: method == "PUT" and "/models/" in path
    with FaultProxy(env["AWS_ENDPOINT_URL"], 0.0, kinds=("503",), only=writing_models) as proxy:
        with gunicorn({**env, "AWS_ENDPOINT_URL": proxy.url}, workers=1) as base:
            assert post(base, "/train", labelled(strokes[0])).status_code == 200
            proxy.share = 1.0  # S3 refuses every model write now
            response = post(base, "/train", labelled(strokes[1]))
            assert response.status_code == 503 and "the drawing was kept" in response.json()["error"]
            assert response.json()["sample_id"] in drawings(store)
            assert len(drawings(store)) == 2 and current(store)[0]["version"] == 1  # not in the count

            proxy.share = 0.0  # S3 is back: learning goes on
            response = post(base, "/train", labelled(strokes[2]))
            assert response.status_code == 200 and response.json()["model_version"] == 2
            assert len(drawings(store)) == 3
