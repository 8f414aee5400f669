"""The app as deployed: real gunicorn on a loopback port, /predict and /train over HTTP."""

import json
from concurrent.futures import ThreadPoolExecutor

import requests

from conftest import drawing_url, gunicorn, ink_url
from recognizer.training import data, render


def test_predict_and_train_over_http(tmp_path, strokes):
    env = {"STORE_URL": f"file://{tmp_path / 'store'}", "MODEL_REFRESH_SECONDS": "0"}
    with gunicorn(env, workers=2) as base:
        assert requests.get(base + "/health", timeout=5).json()["status"] == "ok"
        right = 0
        for sample in strokes[:20]:
            body = {"image": drawing_url(sample), "strokes": sample["strokes"]}  # as the page sends them
            response = requests.post(base + "/predict", json=body, timeout=10)
            assert response.status_code == 200
            right += response.json()["answer"] == sample["label"]
        assert right >= 18
        versions = []
        for sample in strokes[20:24]:
            body = {"image": drawing_url(sample), "digit": sample["label"], "strokes": sample["strokes"]}
            response = requests.post(base + "/train", json=body, timeout=30)
            assert response.status_code == 200
            versions.append(response.json()["model_version"])
            (meta,) = (tmp_path / "store").glob(f"drawings/*/{response.json()['sample_id']}.json")
            assert json.loads(meta.read_text())["strokes"] == sample["strokes"]
        assert versions == [1, 2, 3, 4]  # one per /train, whichever of the 2 workers served it
        page = requests.get(base + "/", timeout=5)
        assert page.status_code == 200 and "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_answers_through_gunicorn_meet_the_accuracy_floor(tmp_path, strokes):
    """All 1000 MNIST test digits as 200x200 canvas images and all 300 dev drawings, over HTTP."""
    _, _, x_test, y_test = data.load_mnist()
    cases = [(ink_url(render.mnist_to_canvas(x)), int(y), "mnist") for x, y in zip(x_test, y_test)]
    cases += [(drawing_url(s), s["label"], "dev") for s in strokes]
    env = {"STORE_URL": f"file://{tmp_path / 'store'}"}
    with gunicorn(env, workers=2) as base, requests.Session() as session:

        def answer(case):
            response = session.post(base + "/predict", json={"image": case[0]}, timeout=30)
            assert response.status_code == 200
            return response.json()["answer"] == case[1], case[2]

        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(answer, cases))
    accuracy = {
        name: sum(ok for ok, n in results if n == name) / sum(n == name for _, n in results)
        for name in ("mnist", "dev")
    }
    print(f"accuracy through gunicorn: {accuracy}")
    assert accuracy["mnist"] >= 0.97
    assert accuracy["dev"] >= 0.90
