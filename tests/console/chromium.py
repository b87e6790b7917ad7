"""Debian's headless Chromium, driven over the DevTools protocol with ``websockets`` (no driver
downloaded, nothing fetched): open a page, press keys, read the terminal's text, take a screenshot,
and keep every URL the page asked for.

Chromium itself may reach nothing but loopback: ``--host-resolver-rules`` makes every other name
unresolvable, so even a page that tried could not leave 127.0.0.1 (and the test sees it try).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--window-size=1400,900", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
]

# The terminal object textual.js builds is not global: catch it as it is assigned (``this.terminal = …``),
# so a test can read the text the page shows from xterm's own buffer.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true, enumerable: true});
    if (value && typeof value.onData === "function") { window.__terminal = value; }
  },
});
"""
SCREEN_TEXT = """(() => {
  const t = window.__terminal;
  if (!t) { return ""; }
  const b = t.buffer.active, lines = [];
  for (let y = 0; y < t.rows; y++) { const l = b.getLine(b.viewportY + y); lines.push(l ? l.translateToString(true) : ""); }
  return lines.join("\\n");
})()"""

# key -> (key, code, windowsVirtualKeyCode, text, modifiers: 2 is ctrl)
SPECIAL_KEYS = {
    "enter": ("Enter", "Enter", 13, "\r", 0),
    "tab": ("Tab", "Tab", 9, "\t", 0),
    "escape": ("Escape", "Escape", 27, "", 0),
    "down": ("ArrowDown", "ArrowDown", 40, "", 0),
    "up": ("ArrowUp", "ArrowUp", 38, "", 0),
    "ctrl+u": ("u", "KeyU", 85, "", 2),
}


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    """One tab over its own DevTools websocket; events are kept in arrival order."""

    def __init__(self, ws_url: str) -> None:
        self._stack = ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(connect(ws_url, max_size=None, open_timeout=30))
        self.events: list[dict[str, Any]] = []
        self._next_id = 0

    def send(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        msg_id = self._next_id
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            msg = self._recv(deadline)
            if msg is None:
                raise TimeoutError(f"no answer to {method} within {timeout} s")
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def _recv(self, deadline: float) -> dict[str, Any] | None:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            msg = json.loads(self.ws.recv(timeout=left))
        except TimeoutError:
            return None
        if "method" in msg:
            self.events.append(msg)
        return msg

    def pump(self, seconds: float) -> None:
        """Take in whatever events arrive for ``seconds``."""
        deadline = time.monotonic() + seconds
        while self._recv(deadline) is not None:
            pass

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def text(self) -> str:
        return self.evaluate(SCREEN_TEXT) or ""

    def cursor_row(self) -> int:
        """The terminal cursor's row: Textual keeps it at the focused input, so it shows where typing goes."""
        return self.evaluate("window.__terminal ? window.__terminal.buffer.active.cursorY : -1")

    def wait_for(self, check: Callable[[], bool], what: str, timeout: float = 60) -> None:
        """Until ``check()`` holds, taking in events meanwhile; fails saying ``what`` never happened."""
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not seen within {timeout} s; the page shows:\n{self.text()}")
            self.pump(0.2)

    def wait_text(self, needle: str, timeout: float = 60) -> str:
        self.wait_for(lambda: needle in self.text(), f"{needle!r} on the page", timeout)
        return self.text()

    def focus_terminal(self) -> None:
        """Keys go to the terminal, as after a click into it (a headless tab is never focused otherwise)."""
        self.send("Emulation.setFocusEmulationEnabled", enabled=True)
        self.evaluate("window.__terminal.focus()")

    def press(self, *keys: str) -> None:
        """Keys as a person types them: ``"b"``, ``"enter"``, or a string typed a character at a time."""
        for key in keys:
            if key in SPECIAL_KEYS:
                self._key(*SPECIAL_KEYS[key])
            else:
                for ch in key:
                    code = f"Key{ch.upper()}" if ch.isalpha() else ""
                    self._key(ch, code, ord(ch.upper()) if ch.isalnum() else 0, ch, 0)

    def _key(self, key: str, code: str, vk: int, text: str, modifiers: int) -> None:
        down = {"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": vk, "modifiers": modifiers}
        if text:
            down["text"] = text
        self.send("Input.dispatchKeyEvent", **down)
        self.send("Input.dispatchKeyEvent", type="keyUp", key=key, code=code, windowsVirtualKeyCode=vk,
                  modifiers=modifiers)

    def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])
        path.write_bytes(data)
        return data

    def urls_requested(self) -> list[str]:
        """Every URL the page asked for: documents, files, fonts, websockets."""
        urls = []
        for e in self.events:
            if e["method"] == "Network.requestWillBeSent":
                urls.append(e["params"]["request"]["url"])
            elif e["method"] == "Network.webSocketCreated":
                urls.append(e["params"]["url"])
        return urls

    def responses(self) -> dict[str, int]:
        return {e["params"]["response"]["url"]: e["params"]["response"]["status"]
                for e in self.events if e["method"] == "Network.responseReceived"}

    def close(self) -> None:
        self._stack.close()


class Chromium:
    """A headless Chromium on a throwaway profile; ``open_page`` opens and returns a tab."""

    def __init__(self, binary: str, profile: Path) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        port_file = profile / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)  # a reused profile's file names a port long closed
        self.log = open(profile.parent / "chromium.log", "wb")
        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"chromium did not open its DevTools port; see {self.log.name}")
            time.sleep(0.1)
        self.port = int(port_file.read_text().split()[0])

    def _json(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def open_page(self, url: str) -> tuple[Page, str]:
        """A new tab: its terminal caught, its network watched, then sent to ``url``; (page, target id)."""
        target = self._json("/json/new?about:blank", method="PUT")
        page = Page(target["webSocketDebuggerUrl"])
        page.send("Network.enable")
        page.send("Page.enable")
        page.send("Page.addScriptToEvaluateOnNewDocument", source=CATCH_TERMINAL)
        page.send("Page.navigate", url=url)
        return page, target["id"]

    def close_page(self, target_id: str) -> None:
        urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/close/{target_id}", timeout=30).close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
