#!/usr/bin/env python3
"""Loads an HTML report in headless Chromium (Debian's `chromium`) through the DevTools
protocol and prints, as JSON, what the e2e tests assert on:

  console: console messages and uncaught exceptions (none expected),
  requests: every network request other than the page itself (none expected),
  marks: the SVG marks by kind (`data-mark`),
  pwned: whether the global an injected <script> would set exists (never expected),
  title, text_has: the page title, and whether given strings appear as text.

A screenshot of the whole page is written to the given PNG path.

Usage: check_html.py PAGE.html SHOT.png [TEXT ...]
Needs: chromium, and the websocket-client package (.ci/run installs both).
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket  # websocket-client


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    page, shot, texts = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3:]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
    port = free_port()
    profile = tempfile.mkdtemp(prefix="mfatrail-chromium-")
    proc = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--window-size=1200,1600",
         f"--user-data-dir={profile}", f"--remote-debugging-port={port}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ws_url = None
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=1) as r:
                    pages = [t for t in json.load(r) if t.get("type") == "page"]
                if pages:
                    ws_url = pages[0]["webSocketDebuggerUrl"]
                    break
            except OSError:
                pass
            time.sleep(0.1)
        if not ws_url:
            raise SystemExit("chromium did not start")
        # No Origin header: chromium accepts a client that is not a page.
        ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        ids = iter(range(1, 1_000_000))
        events = []

        def call(method, **params):
            i = next(ids)
            ws.send(json.dumps({"id": i, "method": method, "params": params}))
            while True:
                m = json.loads(ws.recv())
                if m.get("id") == i:
                    if "error" in m:
                        raise SystemExit(f"{method}: {m['error']}")
                    return m.get("result", {})
                events.append(m)

        for domain in ("Page", "Runtime", "Log", "Network"):
            call(f"{domain}.enable")
        url = "file://" + page
        call("Page.navigate", url=url)
        deadline = time.time() + 30
        while time.time() < deadline and not any(e.get("method") == "Page.loadEventFired" for e in events):
            events.append(json.loads(ws.recv()))
        time.sleep(0.3)  # late requests, if any
        ws.settimeout(0.2)
        try:
            while True:
                events.append(json.loads(ws.recv()))
        except websocket.WebSocketTimeoutException:
            pass
        ws.settimeout(30)

        def evaluate(expr):
            return call("Runtime.evaluate", expression=expr, returnByValue=True)["result"].get("value")

        marks = evaluate(
            "(() => { const m = {}; document.querySelectorAll('svg [data-mark]').forEach(e => {"
            " const k = e.getAttribute('data-mark'); m[k] = (m[k] || 0) + 1; }); return m; })()")
        body = evaluate("document.body.innerText")
        result = {
            "title": evaluate("document.title"),
            "console": [e["params"] for e in events
                        if e.get("method") in ("Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Log.entryAdded")],
            "requests": [e["params"]["request"]["url"] for e in events
                         if e.get("method") == "Network.requestWillBeSent" and e["params"]["request"]["url"] != url],
            "marks": marks,
            "pwned": evaluate("typeof window.__mfatrail_pwned !== 'undefined'"),
            "scripts": evaluate("document.scripts.length"),
            "text_has": {t: t in body for t in texts},
        }
        metrics = call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        png = call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                   clip={"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000), "scale": 1})
        os.makedirs(os.path.dirname(os.path.abspath(shot)), exist_ok=True)
        with open(shot, "wb") as fh:
            fh.write(base64.b64decode(png["data"]))
        ws.close()
        print(json.dumps(result))
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
