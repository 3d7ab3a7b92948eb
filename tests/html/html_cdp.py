# SPDX-License-Identifier: MIT
"""A small headless-Chromium driver over the DevTools protocol, for the HTML report's tests.

:class:`Browser` starts one Chromium (``--headless=new``, and ``--no-sandbox``
because CI runs as root) with ``--remote-debugging-port=0``, reads the port it
chose from ``DevToolsActivePort`` and talks to it over one WebSocket
(``websocket-client``) in flat-session mode. :meth:`Browser.new_page` opens a
tab; a :class:`Page` navigates, evaluates JavaScript, clicks and types with real
input events (``Input.dispatchMouseEvent``, ``Input.insertText``) as a user
would, takes screenshots, and collects every JavaScript error of the page:
uncaught exceptions, ``console.error`` and error-level log entries.

Only what the tests need; no retries hidden behind the scenes: a command that
gets no answer within the timeout fails the test with the method's name.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import websocket

__all__ = ["Browser", "BrowserError", "Page", "find_chromium"]

CANDIDATES = (
    "/usr/lib/chromium/chromium",  # Debian's binary, without the wrapper script
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
)


class BrowserError(RuntimeError):
    """Chromium could not be started, or a DevTools command failed."""


def find_chromium() -> str | None:
    """The Chromium to use: ``$THREADPROF_CHROMIUM``, else the first candidate found."""
    env = os.environ.get("THREADPROF_CHROMIUM")
    if env:
        return env
    for name in CANDIDATES:
        path = name if os.path.isabs(name) and os.access(name, os.X_OK) else shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """One headless Chromium and a DevTools connection to it."""

    def __init__(self, executable: str, profile_dir: Path, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        args = [
            executable,
            "--headless=new",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--mute-audio",
            "--hide-scrollbars",
            "--force-color-profile=srgb",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile_dir}",
            "--window-size=1280,900",
            "about:blank",
        ]
        self.log_path = profile_dir.parent / f"{profile_dir.name}.log"
        self._log = open(self.log_path, "wb")  # closed in close()
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT
        )
        try:
            url = self._wait_for_endpoint(profile_dir / "DevToolsActivePort")
            self.ws = websocket.create_connection(url, timeout=timeout, suppress_origin=True)
        except BaseException:
            self.close()
            raise

    def _wait_for_endpoint(self, port_file: Path) -> str:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrowserError(
                    f"chromium exited with status {self.process.returncode}: "
                    + self.log_path.read_text(errors="replace")[-2000:]
                )
            try:
                lines = port_file.read_text().split()
            except OSError:
                lines = []
            if len(lines) >= 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.05)
        raise BrowserError(f"chromium wrote no {port_file.name} within {self.timeout} s")

    # -- the protocol --------------------------------------------------------
    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        """Send a command and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        msg_id = self._next_id
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session is not None:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + self.timeout
        while True:
            if time.monotonic() > deadline:
                raise BrowserError(f"no answer to {method} within {self.timeout} s")
            reply = json.loads(self.ws.recv())
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def take_events(self, session: str) -> list[dict[str, Any]]:
        """The events received so far for ``session``, removed from the queue."""
        mine = [e for e in self._events if e.get("sessionId") == session]
        self._events = [e for e in self._events if e.get("sessionId") != session]
        return mine

    def pump(self, seconds: float) -> None:
        """Read events for up to ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.ws.settimeout(left)
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            finally:
                self.ws.settimeout(self.timeout)
            if "method" in msg:
                self._events.append(msg)

    def new_page(self, width: int = 1280, height: int = 900) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        return Page(self, target, session, width, height)

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            try:
                self.send("Browser.close")
            except Exception:  # it is going away either way
                pass
            ws.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


class Page:
    """One tab. Coordinates are CSS pixels of the viewport."""

    def __init__(self, browser: Browser, target: str, session: str, width: int, height: int):
        self.browser = browser
        self.target = target
        self.session = session
        self.errors: list[str] = []
        self.send("Page.bringToFront")  # a background tab may not run animation frames
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Log.enable")
        self.resize(width, height)

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, self.session)

    def resize(self, width: int, height: int) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def _collect(self) -> list[dict[str, Any]]:
        events = self.browser.take_events(self.session)
        for e in events:
            method, params = e["method"], e.get("params", {})
            if method == "Runtime.exceptionThrown":
                d = params["exceptionDetails"]
                text = d.get("exception", {}).get("description") or d.get("text", "")
                self.errors.append(f"uncaught: {text}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                args = [a.get("value", a.get("description", "")) for a in params.get("args", [])]
                self.errors.append("console.error: " + " ".join(map(str, args)))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                entry = params["entry"]
                self.errors.append(f"log: {entry.get('text')} ({entry.get('url', '')})")
        return events

    def goto(self, url: str) -> None:
        """Open ``url`` and wait for its load event."""
        self._collect()
        self.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + self.browser.timeout
        while time.monotonic() < deadline:
            self.browser.pump(0.05)
            if any(e["method"] == "Page.loadEventFired" for e in self._collect()):
                return
        raise BrowserError(f"{url} did not load within {self.browser.timeout} s")

    def js(self, expression: str) -> Any:
        """Evaluate ``expression`` in the page and return its value (promises awaited)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        self._collect()
        if "exceptionDetails" in result:
            d = result["exceptionDetails"]
            raise BrowserError(
                f"{expression!r}: {d.get('exception', {}).get('description') or d.get('text')}"
            )
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 10.0) -> Any:
        """Poll ``expression`` until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.js(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"{expression!r} still false after {timeout} s")
            time.sleep(0.05)

    def settle(self) -> None:
        """Let the page draw what it scheduled (two animation frames)."""
        self.js("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def mouse(self, kind: str, x: float, y: float, **extra: Any) -> None:
        self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, **extra})

    def click(self, x: float, y: float) -> None:
        """A left click at ``(x, y)``, with the mouse moved there first."""
        self.mouse("mouseMoved", x, y)
        self.mouse("mousePressed", x, y, button="left", buttons=1, clickCount=1)
        self.mouse("mouseReleased", x, y, button="left", buttons=0, clickCount=1)
        self.settle()

    def wheel(self, x: float, y: float, dy: float, dx: float = 0.0) -> None:
        self.mouse("mouseWheel", x, y, deltaX=dx, deltaY=dy)
        self.settle()

    def click_selector(self, selector: str) -> None:
        """Click the middle of the first element matching ``selector``, scrolled into view."""
        box = self.js(
            "(() => { const e = document.querySelector(" + json.dumps(selector) + ");"
            " e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; })()"
        )
        self.click(*box)

    def type(self, text: str) -> None:
        """Type ``text`` into the focused element."""
        self.send("Input.insertText", {"text": text})

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.js(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def js_errors(self) -> list[str]:
        """Every error the page reported so far, including ``window.threadprof.errors``."""
        self.browser.pump(0.05)
        self._collect()
        return list(self.errors)

    def close(self) -> None:
        try:
            self.browser.send("Target.closeTarget", {"targetId": self.target})
        finally:
            self.browser.take_events(self.session)
