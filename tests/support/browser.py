"""Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe):
no websocket library, no network port, no driver download. Used by the browser tests, which
fail (never skip) when Chromium is missing: tools/test installs it (Debian's `chromium`).

    with Browser() as b:
        page = b.open(path)            # waits for load; collects console output and dialogs
        page.eval("document.title")
        page.screenshot("out.png")
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

READ_TIMEOUT = 120.0
"""Longest wait for one DevTools reply (generous: the machines are shared and slow)."""

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError(
        "Chromium is required for the browser tests: apt-get install -y chromium (tools/test does)"
    )


class Browser:
    def __init__(self, width: int = 1400, height: int = 1000) -> None:
        self.size = (width, height)

    def __enter__(self) -> Browser:
        self.profile = tempfile.mkdtemp(prefix="inceptdsl-chromium-")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        os.set_inheritable(to_child_r, True)
        os.set_inheritable(from_child_w, True)

        def fds() -> None:  # the protocol's fds: 3 = commands in, 4 = replies out
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            [
                chromium(),
                *FLAGS,
                f"--user-data-dir={self.profile}",
                f"--window-size={self.size[0]},{self.size[1]}",
                "about:blank",
            ],
            preexec_fn=fds,
            pass_fds=(3, 4),  # kept open after preexec_fn moved the pipe ends there
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.w = os.fdopen(to_child_w, "wb", buffering=0)
        self.r = os.fdopen(from_child_r, "rb", buffering=0)
        self.buf = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.send("Browser.close")
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.w.close()
        self.r.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read(self, timeout: float = READ_TIMEOUT) -> dict[str, Any]:
        """The next protocol message; a Chromium that stops answering fails the test after
        `timeout` seconds instead of hanging it."""
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.r], [], [], left)[0]:
                raise AssertionError(f"Chromium sent nothing for {timeout:.0f} s")
            chunk = self.r.read(1 << 16)
            if not chunk:
                raise AssertionError("Chromium closed the DevTools pipe")
            self.buf += chunk
        raw, _, self.buf = self.buf.partition(b"\0")
        msg = json.loads(raw)
        if msg.get("method") == "Page.javascriptDialogOpening":
            # answer at once, whatever we are waiting for (an alert() blocks the page's load
            # and every evaluation until it is closed); the event itself is kept as a record
            self.next_id += 1
            answer = {
                "id": self.next_id,
                "method": "Page.handleJavaScriptDialog",
                "params": {"accept": True},
                "sessionId": msg.get("sessionId"),
            }
            self.w.write(json.dumps(answer).encode() + b"\0")
        return msg

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        mid = self.next_id
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        self.w.write(json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == mid:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, session: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, ev in enumerate(self.events):
                if ev.get("method") == method and ev.get("sessionId") == session:
                    return self.events.pop(i)
            self.events.append(self._read())
        raise AssertionError(f"no {method} within {timeout} s")

    def open(self, path: Path | str) -> Page:
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, session)
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session)
        w, h = self.size
        self.send(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=w,
            height=h,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.send("Page.navigate", session, url=Path(path).resolve().as_uri())
        self.wait_event("Page.loadEventFired", session)
        page.settle()
        return page


class Page:
    def __init__(self, browser: Browser, session: str) -> None:
        self.b = browser
        self.session = session

    def eval(self, expression: str) -> Any:
        res = self.b.send(
            "Runtime.evaluate",
            self.session,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in res:
            raise AssertionError(f"{expression}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def settle(self) -> None:
        """Let timers and animation frames run, and answer any dialog (so a script that calls
        alert() cannot block the page; the dialog is still recorded as an event)."""
        self.eval("new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)))")

    def messages(self) -> list[str]:
        """Console output, uncaught exceptions, log entries and dialogs seen so far."""
        out = []
        for ev in self.b.events:
            if ev.get("sessionId") != self.session:
                continue
            m, p = ev.get("method"), ev.get("params", {})
            if m == "Runtime.consoleAPICalled":
                out.append(f"console.{p['type']}: {p.get('args')}")
            elif m == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails']}")
            elif m == "Log.entryAdded":
                out.append(f"log.{p['entry']['level']}: {p['entry']['text']}")
            elif m == "Page.javascriptDialogOpening":
                out.append(f"dialog: {p.get('type')}: {p.get('message')}")
        return out

    def screenshot(self, path: Path | str, full: bool = True) -> bytes:
        params: dict[str, Any] = {"format": "png"}
        if full:
            params["captureBeyondViewport"] = True
        data = base64.b64decode(
            self.b.send("Page.captureScreenshot", self.session, **params)["data"]
        )
        Path(path).write_bytes(data)
        return data

    def click(self, selector: str) -> None:
        self.eval(
            f"document.querySelector({json.dumps(selector)})"
            ".dispatchEvent(new MouseEvent('click', {bubbles: true}))"
        )
        self.settle()


def boxes_overlap(rects: list[tuple[str, float, float, float, float]]) -> list[tuple[str, str]]:
    """Pairs of (name, x, y, w, h) rectangles that overlap by more than half a pixel."""
    bad = []
    rs = sorted(rects, key=lambda r: r[2])
    for i, a in enumerate(rs):
        for b in rs[i + 1 :]:
            if b[2] >= a[2] + a[4]:
                break
            if (
                min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]) > 0.5
                and min(a[2] + a[4], b[2] + b[4]) - max(a[2], b[2]) > 0.5
            ):
                bad.append((a[0], b[0]))
    return bad
