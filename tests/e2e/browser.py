"""A real browser for the end-to-end tests: headless Chromium driven over its DevTools protocol.

Chromium starts once (a second or two) and serves as many pages as a test module needs:

    from browser import Browser

    with Browser() as b:                       # chromium --headless, ended (all its processes) on exit
        page = b.open("http://127.0.0.1:9100/")  # or "file:///.../report.html"; waits for the load
        page.eval("document.title")            # a JavaScript expression's value (promises awaited)
        page.wait("document.querySelectorAll('svg polyline').length > 0", timeout=5)
        page.screenshot("build/page.png", 1200, 900, scale=0.5)   # a PNG; no size: the whole page
        page.problems()                        # console errors, uncaught exceptions, CSP violations
        page.close()
        b.open(url, scripts=False)             # the same page as it reads with scripts off

It talks to the browser over --remote-debugging-pipe (file descriptors 3 and 4, JSON messages
ended by a NUL byte): no port, no websocket, nothing but Python's standard library. Every page
records, from before its first script runs, what went wrong in it: console.error and
console.assert calls, uncaught exceptions and rejections, log entries of level "error" (failed
loads, blocked resources), and every "securitypolicyviolation" event (the CSP's refusals), which
problems() returns as lines of text.

Chromium and every process it starts run in a process group of their own; close() (or leaving
the with block) asks it to close, then ends what is left of the group (TERM, then KILL) and
waits for it, and the browser's profile is a temporary
directory removed then. Its stderr goes to a file (Browser.log), kept for a failed test to show.
"""
import base64
import fcntl
import json
import os
import select
import shutil
import signal
import tempfile
import time

import guard
from harness import group_members

CHROMIUM = os.environ.get("MPECHO_CHROMIUM", "chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
         "--disable-extensions", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
         "--password-store=basic", "--use-mock-keychain", "--disable-crash-reporter",
         "--disable-breakpad", "--remote-debugging-pipe")

# Runs in every page before its own scripts: CSP refusals become records problems() reads.
_WATCH = """
window.__problems = [];
document.addEventListener("securitypolicyviolation", function (e) {
    window.__problems.push("CSP violation: " + e.violatedDirective + " blocked " +
        (e.blockedURI || "inline") + " (" + e.sourceFile + ":" + e.lineNumber + ")");
});
"""


class BrowserError(Exception):
    pass


class Browser:
    """One headless Chromium; open() pages in it. Use it in a with block, or call close()."""

    def __init__(self, timeout=30.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="mpecho-chromium-")
        self.log = os.path.join(self.profile, "stderr.log")
        to_child, self._out = _high(os.pipe())   # we write commands, it reads fd 3
        self._in, from_child = _high(os.pipe())   # it writes answers on fd 4, we read
        self._buf = b""
        self._id = 0
        self._events = []
        err = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        # posix_spawn, not fork + exec with a preexec hook: safe while the tests' threads run
        # its home and caches in the profile too: nothing of it outlives close()
        env = dict(os.environ, HOME=self.profile, XDG_CONFIG_HOME=self.profile, XDG_CACHE_HOME=self.profile)
        self.pid = os.posix_spawnp(CHROMIUM, [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}",
                                              "about:blank"], env, setsid=True, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0), (os.POSIX_SPAWN_DUP2, err, 1),
            (os.POSIX_SPAWN_DUP2, err, 2), (os.POSIX_SPAWN_DUP2, to_child, 3),
            (os.POSIX_SPAWN_DUP2, from_child, 4)])
        self.status = None
        guard.note(self.pid)  # its session is ended even if the runner is killed outright
        for fd in (to_child, from_child, err):
            os.close(fd)
        try:
            self.call("Browser.getVersion")
        except Exception:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _send(self, msg):
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self._out, data):]

    def _receive(self, deadline):
        """The next message from the browser, or BrowserError when the deadline passes."""
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left < 0 or not select.select([self._in], [], [], left)[0]:
                raise BrowserError("chromium did not answer in time; its stderr: " + self.stderr())
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise BrowserError("chromium closed its pipe; its stderr: " + self.stderr())
            self._buf += chunk
        msg, _, self._buf = self._buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method, session=None, timeout=None, **params):
        """Send one DevTools command (to a page's session, or the browser); return its result."""
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session is not None:
            msg["sessionId"] = session
        self._send(msg)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            m = self._receive(deadline)
            if m.get("id") == self._id:
                if "error" in m:
                    raise BrowserError(f"{method}: {m['error']}")
                return m.get("result", {})
            self._events.append(m)

    def events(self, session, method=None):
        """Events received so far for a session (and of a method), taken out of the queue."""
        self.pump()
        keep, out = [], []
        for e in self._events:
            (out if e.get("sessionId") == session and method in (None, e.get("method")) else keep).append(e)
        self._events = keep
        return out

    def pump(self):
        """Take in the events that have arrived, without waiting."""
        try:
            while True:
                self._events.append(self._receive(time.monotonic()))
        except BrowserError:
            if self.exited():
                raise
        return self._events

    def open(self, url, scripts=True, width=1200, height=900):
        """A new tab showing url, once its load event fired; scripts=False: JavaScript off."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, target, session)
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session)
        self.call("Emulation.setDeviceMetricsOverride", session, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        if not scripts:
            self.call("Emulation.setScriptExecutionDisabled", session, value=True)
        else:
            self.call("Page.addScriptToEvaluateOnNewDocument", session, source=_WATCH)
        self.call("Page.navigate", session, url=url)
        page.wait_event("Page.loadEventFired")
        return page

    def exited(self):
        """Whether chromium's first process has ended (it is then reaped)."""
        if self.status is None and os.waitpid(self.pid, os.WNOHANG)[0] == self.pid:
            self.status = "ended"
        return self.status is not None

    def stderr(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def close(self):
        """End chromium and every process of its group, wait for them, remove the profile."""
        try:
            self.call("Browser.close", timeout=5)   # its own way out: it ends and reaps its children
        except (BrowserError, OSError):
            pass
        for fd in (self._out, self._in):
            try:
                os.close(fd)
            except OSError:
                pass
        self._out = self._in = -1
        for sig in (0, signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                break
            if not _group_alive(self.pid, 5):
                break
        deadline = time.monotonic() + 5
        while not self.exited() and time.monotonic() < deadline:
            time.sleep(0.02)
        shutil.rmtree(self.profile, ignore_errors=True)


def _high(fds):
    """A pipe's two ends moved to 10 and up, close-on-exec: clear of the 3 and 4 chromium is given."""
    out = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in fds)
    for fd in fds:
        os.close(fd)
    return out


def _group_alive(pgrp, wait):
    """Whether a live (non-zombie) process of the group is left after waiting up to wait seconds."""
    deadline = time.monotonic() + wait
    while group_members(pgrp):
        if time.monotonic() > deadline:
            return True
        time.sleep(0.05)
    return False


class Page:
    """One tab of a Browser."""

    def __init__(self, browser, target, session):
        self.browser, self.target, self.session = browser, target, session
        self._seen = []

    def call(self, method, **params):
        return self.browser.call(method, self.session, **params)

    def wait_event(self, method, timeout=None):
        deadline = time.monotonic() + (timeout or self.browser.timeout)
        while True:
            got = self.browser.events(self.session, method)
            if got:
                return got[0]
            try:
                self.browser._events.append(self.browser._receive(deadline))
            except BrowserError:
                raise BrowserError(f"no {method} within the time")

    def eval(self, expression):
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise BrowserError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait(self, expression, timeout=10.0, interval=0.1):
        """The expression's value once it is truthy; BrowserError if it is not within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            v = self.eval(expression)
            if v:
                return v
            if time.monotonic() > deadline:
                raise BrowserError(f"not true within {timeout} s: {expression} (last: {v!r})")
            time.sleep(interval)

    def dom(self):
        """The document as it is now, serialized."""
        return self.eval("document.documentElement.outerHTML")

    def screenshot(self, path, width=None, height=None, scale=1.0):
        """A PNG of the whole page (or of width x height CSS pixels from its top left) into
        path; scale < 1 makes it smaller (0.5: half the pixels each way)."""
        if width is None:
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            width, height = size["width"], size["height"]
        clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": scale}
        data = self.call("Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data["data"]))
        return path

    def problems(self):
        """What went wrong in the page so far, as lines: console errors, exceptions, CSP violations."""
        for e in self.browser.events(self.session):
            p, m = e.get("params", {}), e.get("method")
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                self._seen.append("console." + p["type"] + ": " +
                                  " ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
            elif m == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                self._seen.append("exception: " + d.get("exception", {}).get("description", d.get("text", "")))
            elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
                self._seen.append(f"log ({p['entry']['source']}): {p['entry']['text']}")
        try:
            csp = self.eval("window.__problems || []")
        except BrowserError:
            csp = []
        return self._seen + csp

    def close(self):
        self.browser.call("Target.closeTarget", targetId=self.target)
