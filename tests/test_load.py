"""Corrections sent all at once, to one machine (gunicorn -w 2) and to two sharing a bucket: every one is answered
200, learned and counted exactly once, a retried request_id applies once, and the drawing counters stay exact."""

import tempfile
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import drawing_url, gunicorn, wait_until
from recognizer.state.queue import PREFIX
from recognizer.state.store import open_store
from recognizer.state.versions import VERSION_KEY, ModelVersions

pytestmark = pytest.mark.timeout(600)  # real servers under load
CLIENTS, EACH = 8, 4  # clients sending corrections back to back, and how many each


def send_all(bases, strokes):
    """CLIENTS threads, each on its own kept-alive connection, each sending EACH corrections with a request_id,
    spread over the `bases`; returns [(body, response JSON, status)]."""

    def client(c):
        session, sent = requests.Session(), []
        for i in range(EACH):
            sample = strokes[(c * EACH + i) % len(strokes)]
            body = {"image": drawing_url(sample), "digit": sample["label"], "request_id": uuid.uuid4().hex}
            response = session.post(bases[(c + i) % len(bases)] + "/train", json=body, timeout=120)
            sent.append((body, response.json(), response.status_code))
        return sent

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [answer for sent in pool.map(client, range(CLIENTS)) for answer in sent]


def assert_each_counted_once(bases, answers, store_url):
    n = CLIENTS * EACH
    assert [status for _, _, status in answers] == [200] * n
    versions = sorted(body["model_version"] for _, body, _ in answers)
    assert versions == list(range(1, n + 1))  # each correction its own version number: none lost, none twice
    store = open_store(store_url)
    state = ModelVersions(store, None).refresh()
    assert state.version == n and len({h["sample_id"] for h in state.history}) == n
    by_digit = Counter(str(sent["digit"]) for sent, _, _ in answers)
    for base in bases:
        stats = requests.get(base + "/stats", timeout=30).json()
        assert stats["drawings"] == {str(d): by_digit[str(d)] for d in range(10)} and stats["total_drawings"] == n

    def retry(answer):  # every request again, to the other machine where there are two: the first answer again
        sent, first, _ = answer
        response = requests.post(bases[-1] + "/train", json=sent, timeout=120)
        return response.status_code, response.json()["model_version"], response.json()["sample_id"], first

    with ThreadPoolExecutor(CLIENTS) as pool:
        for status, version, sample_id, first in pool.map(retry, answers):
            assert (status, version, sample_id) == (200, first["model_version"], first["sample_id"])
    assert ModelVersions(store, None).refresh().version == n
    for base in bases:
        assert requests.get(base + "/stats", timeout=30).json()["total_drawings"] == n
    # group commit: corrections that arrived together were learned together, fewer versions than corrections
    assert len([key for key in store.keys("models/") if VERSION_KEY.match(key)]) < n
    wait_until(lambda: not store.keys(PREFIX), 10, "the queue to be emptied")  # nothing left waiting


def test_corrections_at_once_on_one_machine(tmp_path, strokes):
    store_url = f"file://{tmp_path / 'store'}"
    env = {"STORE_URL": store_url, "TRAIN_RATE_LIMIT": "100000/minute", "MODEL_VERSIONS_KEPT": "1000"}
    with gunicorn(env, workers=2) as base:
        assert_each_counted_once([base], send_all([base], strokes), store_url)


def test_corrections_at_once_on_two_machines_sharing_a_bucket(s3_env, strokes, tmp_path):
    env, store_url = s3_env
    machine = {**env, "STORE_URL": store_url, "TRAIN_RATE_LIMIT": "100000/minute", "MODEL_VERSIONS_KEPT": "1000"}
    with (
        gunicorn({**machine, "TMPDIR": tempfile.mkdtemp(dir=tmp_path)}, workers=2) as a,  # each its own lock file
        gunicorn({**machine, "TMPDIR": tempfile.mkdtemp(dir=tmp_path)}, workers=2) as b,
    ):
        assert_each_counted_once([a, b], send_all([a, b], strokes), store_url)
