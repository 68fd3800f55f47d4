"""The launched app refuses other host names and other sites' origins (DNS rebinding,
CSRF), sends a Content-Security-Policy that keeps the browser on its own origin, and
makes a client wait after 5 wrong logins."""

import logging
from pathlib import Path

import httpx
import pytest
from conftest import free_port

from rag import RAG, Settings
from ui.app import launch
from ui.backend import Backend
from ui.guard import CSP


@pytest.fixture
def app_url(tmp_path: Path, embedder, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    port = free_port()
    rag = RAG(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    app = launch(Backend(rag), "127.0.0.1", port, 50, [("ann", "right")], block=False)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app.close()
        rag.close()


def test_another_host_name_gets_400_and_another_origin_403(app_url: str) -> None:
    assert httpx.get(app_url, headers={"Host": "evil.example"}).status_code == 400
    foreign = {"Origin": "http://evil.example"}
    for response in (
        httpx.get(f"{app_url}/config", headers=foreign),
        httpx.post(f"{app_url}/login", headers=foreign, data={"username": "ann"}),
        httpx.options(
            f"{app_url}/config", headers={**foreign, "Access-Control-Request-Method": "GET"}
        ),
    ):
        assert response.status_code == 403
        assert "access-control-allow-origin" not in response.headers
    rebinding = {"Host": "evil.example", "Origin": "http://evil.example"}
    preflight = httpx.options(
        f"{app_url}/config", headers={**rebinding, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers


def test_the_own_origin_is_served_with_a_content_security_policy(app_url: str) -> None:
    response = httpx.get(app_url, headers={"Origin": app_url})
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert csp == CSP and "img-src 'self' data: blob:" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert httpx.get(f"http://localhost:{app_url.rsplit(':', 1)[1]}").status_code == 200


def test_wrong_logins_make_the_client_wait_and_are_logged(app_url: str, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="mmrag.ui")
    with httpx.Client(base_url=app_url) as http:
        for _ in range(5):
            wrong = http.post("/login", data={"username": "ann", "password": "nope"})
            assert wrong.status_code == 400
        refused = http.post("/login", data={"username": "ann", "password": "right"})
        assert refused.status_code == 429 and "try again in 30 s" in refused.text
    assert sum("Wrong login from 127.0.0.1" in r.getMessage() for r in caplog.records) == 5


def test_a_right_login_resets_the_count(app_url: str) -> None:
    with httpx.Client(base_url=app_url) as http:
        for _ in range(4):
            http.post("/login", data={"username": "ann", "password": "nope"})
        assert http.post("/login", data={"username": "ann", "password": "right"}).status_code in (
            200,
            302,
            303,
        )
        for _ in range(4):
            assert (
                http.post("/login", data={"username": "ann", "password": "no"}).status_code == 400
            )
