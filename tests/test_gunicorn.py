"""The app as deployed: real gunicorn on a loopback port, /predict and /train over HTTP."""
import requests

from tests.conftest import drawing_url, gunicorn


def test_predict_and_train_over_http(tmp_path, strokes):
    env = {"STORE_URL": f"file://{tmp_path / 'store'}", "MODEL_REFRESH_SECONDS": "0"}
    with gunicorn(env, workers=2) as base:
        assert requests.get(base + "/health", timeout=5).json()["status"] == "ok"
        right = 0
        for sample in strokes[:20]:
            response = requests.post(base + "/predict", json={"image": drawing_url(sample)}, timeout=10)
            assert response.status_code == 200
            right += response.json()["answer"] == sample["label"]
        assert right >= 18
        versions = []
        for sample in strokes[20:24]:
            response = requests.post(base + "/train", json={"image": drawing_url(sample), "digit": sample["label"]},
                                     timeout=30)
            assert response.status_code == 200
            versions.append(response.json()["model_version"])
        assert versions == [1, 2, 3, 4]                 # one per /train, whichever of the 2 workers served it
        page = requests.get(base + "/", timeout=5)
        assert page.status_code == 200 and "default-src 'self'" in page.headers["Content-Security-Policy"]
