"""An ASGI guard in front of the whole web app: Host and Origin allow-lists, security
headers with a Content-Security-Policy, and a back-off on wrong logins.

- DNS rebinding: a page on evil.example that resolves to 127.0.0.1 reaches the app with
  `Host: evil.example`; only the configured host names are served (others get 400), and
  a request whose Origin is another site gets 403 before Gradio's CORS layer could allow it.
- The CSP keeps the browser on this origin: no outside images, media, frames or
  connections, whatever a document's text manages to get rendered.
- Logins: 5 wrong passwords from one client make it wait 30 s, then twice as long per
  further failure; each failure is logged.

Left out: TLS and who may reach the port at all (the operator's proxy and firewall).
"""

import logging
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("mmrag.ui")

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",  # Gradio's inline bootstrap
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'none'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
LOCAL_NAMES = ("127.0.0.1", "localhost", "::1")
FAILURES_BEFORE_WAIT = 5
FIRST_WAIT_S = 30.0


def allowed_hosts(bind: str, configured: str) -> set[str]:
    """RAG_UI_ALLOWED_HOSTS (comma-separated), else the bind address and localhost."""
    names = {n.strip().lower() for n in configured.split(",") if n.strip()}
    return names or {bind.lower(), *LOCAL_NAMES}


def hostname(value: str) -> str:
    """The host name of a Host header or an Origin URL, without port or brackets."""
    netloc = urlsplit(value).netloc if "://" in value else value
    host = netloc.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host[1 : host.find("]")].lower()
    return host.split(":", 1)[0].lower()


@dataclass
class _Client:
    failures: int = 0
    until: float = 0.0  # monotonic time before which logins are refused


@dataclass
class LoginBackoff:
    """Wrong-login counts per client address."""

    clients: dict[str, _Client] = field(default_factory=dict)

    def wait_s(self, client: str) -> float:
        state = self.clients.get(client)
        return max(0.0, state.until - time.monotonic()) if state else 0.0

    def failed(self, client: str) -> None:
        state = self.clients.setdefault(client, _Client())
        state.failures += 1
        log.warning("Wrong login from %s (%d in a row).", client, state.failures)
        over = state.failures - FAILURES_BEFORE_WAIT
        if over >= 0:
            state.until = time.monotonic() + FIRST_WAIT_S * 2**over

    def succeeded(self, client: str) -> None:
        self.clients.pop(client, None)


class RequestGuard:
    def __init__(self, app: ASGIApp, hosts: set[str], backoff: LoginBackoff) -> None:
        self.app = app
        self.hosts = hosts
        self.backoff = backoff

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if hostname(headers.get("host", "")) not in self.hosts:
            await _refuse(
                scope, send, 400, "This host name is not served here (RAG_UI_ALLOWED_HOSTS)."
            )
            return
        origin = headers.get("origin")
        if origin is not None and hostname(origin) not in self.hosts:
            await _refuse(scope, send, 403, "Requests from other sites are refused.")
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        login = scope["type"] == "http" and scope["method"] == "POST"
        login = login and scope["path"].rstrip("/").endswith("/login")
        if login and (wait := self.backoff.wait_s(client)):
            await _refuse(scope, send, 429, f"Too many wrong logins; try again in {wait:.0f} s.")
            return

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
                if login:
                    status = message["status"]
                    if status in (200, 302, 303):
                        self.backoff.succeeded(client)
                    elif status in (400, 401):
                        self.backoff.failed(client)
            await send(message)

        await self.app(scope, receive, guarded_send)


async def _refuse(scope: Scope, send: Send, status: int, text: str) -> None:
    """Answer without reaching the app: a plain-text HTTP error, or a closed websocket."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), *HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
