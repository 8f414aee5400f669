"""Over real HTTP (gunicorn, moto's S3 server): a flaky store, and workers killed at each step of /train.

Every test asserts: no 500; every correction answered 200 is counted exactly once and none is lost; a 503
means not counted (its drawing is kept, and `recognizer.commands.rebuild` learns it once); /health is honest.
"""

import json

import pytest
import requests
from faults import FaultProxy

from conftest import ROOT, drawing_url, gunicorn
from recognizer.commands.rebuild import rebuild
from recognizer.service import request_key
from recognizer.state.drawings import stored_drawings
from recognizer.state.store import open_store
from recognizer.state.versions import ModelVersions

pytestmark = pytest.mark.timeout(600)
STEPS = ("drawing stored", "version written", "before the swap", "pointer swapped", "answer kept")  # crash_app's
CORRECTIONS = 40
FAULT_SHARE = 0.2


def app_env(env, url, **extra):
    return {**env, "STORE_URL": url, "TRAIN_RATE_LIMIT": "100000/minute", "MODEL_REFRESH_SECONDS": "0.2", **extra}


def counted(store):
    """The request ids in the current version's history, as the store holds it (read past any proxy)."""
    state = ModelVersions(store, None).refresh()
    return state.version, [h["request"] for h in state.history if "request" in h]


def send(base, body):
    """One try: the status code, or None when no answer came."""
    try:
        response = requests.post(base + "/train", json=body, timeout=60)
    except requests.ConnectionError:
        return None, None
    return response.status_code, response.json()


def test_corrections_through_a_store_failing_one_request_in_five(s3_env, strokes, tmp_path):
    env, url = s3_env
    samples = strokes[:CORRECTIONS]
    bodies = [{"image": drawing_url(s), "digit": s["label"], "request_id": f"flaky-{i}"} for i, s in enumerate(samples)]
    statuses, answered = [], {}
    with FaultProxy(env["AWS_ENDPOINT_URL"], FAULT_SHARE, seed=5, spare=20) as proxy:
        with gunicorn(app_env(env, url, AWS_ENDPOINT_URL=proxy.url), workers=2) as base:
            for body in bodies:
                for _ in range(3):  # a client that retries a 503 with the same request_id
                    status, reply = send(base, body)
                    statuses.append(status)
                    if status == 200:
                        answered[body["request_id"]] = reply
                        break
            health = requests.get(base + "/health", timeout=30)
            assert 500 not in statuses and set(statuses) <= {200, 503}  # here, so that a failure shows the server's log
        faults = dict(proxy.faults)
    store = open_store(url)  # straight to moto: what really is stored
    version, requests_counted = counted(store)
    figures = {
        "corrections sent": len(bodies),
        "tries": len(statuses),
        "answered 200": len(answered),
        "answered 503": statuses.count(503),
        "counted": version,
        "faults injected": faults,
    }
    (ROOT / "tests" / "artifacts").mkdir(exist_ok=True)
    (ROOT / "tests" / "artifacts" / "faults.json").write_text(json.dumps(figures, indent=2))
    print(figures)
    assert sum(faults.values()) >= 30  # the store really was flaky
    assert sorted(requests_counted) == sorted(map(request_key, answered))  # each 200 counted once, nothing else
    assert version == len(answered) and len(answered) >= CORRECTIONS * 0.8
    assert [reply["model_version"] for reply in answered.values()] == list(range(1, version + 1))
    assert health.status_code == 200 and health.json()["problems"] == []
    train_drawings = [d for d in stored_drawings(store) if d.meta(store)["route"] == "train"]
    assert len(train_drawings) == len({d.sample_id for d in train_drawings}) <= len(bodies)  # one per request
    learned, _, rebuilt = rebuild(store, log=lambda *_: None)
    assert rebuilt == learned == len(train_drawings)  # each kept drawing learned once


@pytest.mark.parametrize("step", STEPS)
def test_a_worker_killed_at_each_step_of_train_loses_nothing_and_counts_once(s3_env, strokes, tmp_path, step):
    env, url = s3_env
    body = {"image": drawing_url(strokes[1]), "digit": strokes[1]["label"], "request_id": f"killed-{step}"}
    marker = tmp_path / "crashed"
    with gunicorn(app_env(env, url, CRASH_AT=step, CRASH_MARKER=str(marker)), app="crash_app:app") as base:
        status, _ = send(base, body)
        assert status is None and marker.read_text() == step  # the worker died mid-request
        for _ in range(20):  # the client tries again
            status, reply = send(base, body)
            if status is not None:
                break
        assert status == 200 and reply["model_version"] == 1
        assert send(base, body) == (200, reply)  # and again: the same answer
        stats = requests.get(base + "/stats", timeout=30).json()
        health = requests.get(base + "/health", timeout=30)
    store = open_store(url)
    assert counted(store) == (1, [request_key(body["request_id"])])
    assert stats["corrections"] == 1 and stats["total_drawings"] == 1
    problems = health.json()["problems"]
    assert health.status_code == 200
    if step in ("version written", "before the swap"):  # a first version, written but never pointed to: ...
        assert not problems or "newest intact" in " ".join(problems)  # ... the next worker adopts it, and says so
    else:
        assert problems == []
