"""CORS only for configured origins, security headers on every answer, the admin token, no debug mode."""

import runpy
from pathlib import Path

import pytest

from conftest import drawing_url
from web import create_app

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "test-admin-token"


def make_app(tmp_path, **config):
    return create_app(
        {
            "TESTING": True,
            "STORE_URL": f"file://{tmp_path / 'store'}",
            "MODEL_REFRESH_SECONDS": 0,
            "TRAIN_RATE_LIMIT": "1000/minute",
            **config,
        }
    )


# ---------------------------------------------------------------------------------------------- CORS
def cors_requests(client, origin, image):
    """A simple GET, a JSON POST, and the browser's preflight for it, all from `origin`."""
    return [
        client.get("/health", headers={"Origin": origin}),
        client.post("/predict", json={"image": image}, headers={"Origin": origin}),
        client.options(
            "/predict",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        ),
    ]


def test_no_cors_headers_by_default(client, strokes):
    for response in cors_requests(client, "https://evil.example", drawing_url(strokes[0])):
        assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_only_for_the_configured_origins(tmp_path, strokes):
    client = make_app(tmp_path, CORS_ORIGINS=["https://digits.example", "https://other.example"]).test_client()
    image = drawing_url(strokes[0])
    for origin in ("https://digits.example", "https://other.example"):
        for response in cors_requests(client, origin, image):
            assert response.headers.get("Access-Control-Allow-Origin") == origin
    for origin in ("https://evil.example", "https://digits.example.evil.example", "http://digits.example", "null"):
        for response in cors_requests(client, origin, image):
            assert "Access-Control-Allow-Origin" not in response.headers, origin
    assert client.post("/predict", json={"image": image}).status_code == 200  # same origin still works


def test_cors_origins_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", " https://a.example , https://b.example ,")
    app = create_app({"TESTING": True, "STORE_URL": f"file://{tmp_path / 'store'}"})
    assert app.config["CORS_ORIGINS"] == ["https://a.example", "https://b.example"]
    response = app.test_client().get("/health", headers={"Origin": "https://b.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://b.example"


# ---------------------------------------------------------------------------------------------- headers
@pytest.fixture(scope="module")
def shared_client(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("headers"), ADMIN_TOKEN=TOKEN).test_client()


@pytest.mark.parametrize(
    "method, route, body",
    [
        ("get", "/", None),
        ("get", "/about", None),
        ("get", "/health", None),
        ("get", "/stats", None),
        ("post", "/predict", {"image": "x"}),
        ("get", "/no-such-page", None),
        ("get", "/predict", None),
        ("post", "/admin/reset", None),
    ],
)
def test_security_headers_on_every_answer(shared_client, method, route, body):
    client = shared_client
    response = getattr(client, method)(route, json=body) if body else getattr(client, method)(route)
    csp = response.headers["Content-Security-Policy"]
    directives = dict((part.split() + [""])[:2] for part in csp.split(";") if part.strip())
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Server" not in response.headers or "Werkzeug" not in response.headers.get("Server", "")


def test_the_page_has_no_inline_script_or_style(shared_client):
    """With script-src 'self' an inline script would not run: the page must not depend on one."""
    html = shared_client.get("/").get_data(as_text=True).lower()
    assert "<script>" not in html and " onclick=" not in html and "<style>" not in html and 'style="' not in html


# ---------------------------------------------------------------------------------------------- admin
def test_admin_reset_needs_the_exact_token(shared_client):
    client = shared_client
    for header in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": f"Bearer {TOKEN}x"},
    ):
        response = client.post("/admin/reset", headers=header)
        assert response.status_code == 401 and "Authorization" in response.get_json()["error"]


def test_admin_is_disabled_without_a_token(tmp_path):
    client = make_app(tmp_path, ADMIN_TOKEN="").test_client()
    for header in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
        response = client.post("/admin/reset", headers=header)
        assert response.status_code == 404 and "disabled" in response.get_json()["error"]


def test_admin_reset_restores_the_originals_and_keeps_history(client, strokes):
    for sample in strokes[2:4]:  # right labels: a clean digit taught as another is held back, not learned
        assert client.post("/train", json={"image": drawing_url(sample), "digit": sample["label"]}).status_code == 200
    before = client.get("/stats").get_json()
    assert before["model_versions"]["fnn_updated"] == 2 and len(before["history"]) == 2
    response = client.post("/admin/reset", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.get_json()["model_version"] == 0 and len(response.get_json()["versions"]) >= 3
    for drawing in strokes[:6]:
        body = client.post("/predict", json={"image": drawing_url(drawing)}).get_json()
        assert body["predictions"]["fnn_updated"] == body["predictions"]["fnn"]
        assert body["predictions"]["cnn_updated"] == body["predictions"]["cnn"]
        assert body["model_versions"] == {"fnn_updated": 0, "cnn_updated": 0}
    after = client.get("/stats").get_json()
    assert after["history"][:2] == before["history"] and after["history"][2] == {"reset": True}
    assert after["total_drawings"] == 2  # the drawings stay too
    again = client.post("/train", json={"image": drawing_url(strokes[4]), "digit": strokes[4]["label"]})
    assert again.get_json()["model_version"] == 1


# ---------------------------------------------------------------------------------------------- no debug
def test_app_py_never_runs_the_debugger(tmp_path, monkeypatch):
    """`python app.py` with FLASK_DEBUG=1 still starts without the debugger or reloader."""
    import werkzeug.serving

    seen = {}

    def fake_run_simple(host, port, app, **options):
        seen.update(options, host=host, debug=app.debug)

    monkeypatch.setattr(werkzeug.serving, "run_simple", fake_run_simple)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv("STORE_URL", f"file://{tmp_path / 'store'}")
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    runpy.run_path(str(ROOT / "app.py"), run_name="__main__")
    assert seen["debug"] is False and not seen.get("use_debugger") and not seen.get("use_reloader")
    assert seen["host"] == "127.0.0.1"


def test_errors_never_leak_a_traceback(client, monkeypatch):
    """An unexpected exception inside a route is a JSON 500 without internals (the last line of defence)."""

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(client.application.extensions["recognizer"], "stats", explode)
    client.application.testing = False  # let the app's handler answer, as in production
    try:
        response = client.get("/stats")
    finally:
        client.application.testing = True
    assert response.status_code == 500 and response.mimetype == "application/json"
    assert "secret" not in response.get_data(as_text=True) and "Traceback" not in response.get_data(as_text=True)
