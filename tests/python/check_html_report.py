#!/usr/bin/env python3
"""Opens an sslx report.html in a real browser (headless Chromium, driven over the DevTools
protocol) and checks what a reader would see:

- the comparison table holds the numbers of table.csv: every group, every column, the mean and
  std to the precision shown, and the full-precision data-mean / data-std attributes;
- the best group of every column with a direction is the one marked;
- clicking a column's header sorts the rows by that column;
- every plot rendered with a non-zero size;
- the console logged no error and no script threw.

It leaves the DOM after load (dom.html) and a full-page screenshot (screenshot.png) in OUT_DIR.
Exit status 0 when every check passes, 1 with the failures listed otherwise, 2 when the browser
could not be driven. Python's standard library only: the WebSocket client is below.

usage: check_html_report.py --chromium PATH REPORT.html TABLE.csv OUT_DIR
"""
import argparse
import base64
import csv
import json
import math
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time


class WebSocket:
    """The client side of RFC 6455, enough for the DevTools protocol: text frames, masking,
    fragmented messages, ping answered."""

    def __init__(self, port, path, timeout):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the browser closed the connection during the handshake")
            response += chunk
        head, self.buffer = response.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError("handshake refused: " + head.decode(errors="replace"))

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("the browser closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send(self, text):
        payload = text.encode()
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def receive(self):
        message = b""
        while True:
            first, second = self._read(2)
            opcode, final = first & 0x0F, first & 0x80
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(length)
            if opcode == 0x9:  # ping: answer with the same payload
                self.sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
                continue
            if opcode == 0x8:
                raise ConnectionError("the browser closed the WebSocket")
            message += payload
            if final:
                return message.decode()


class Browser:
    """Headless Chromium with one page, its console errors collected."""

    def __init__(self, chromium, timeout=60):
        self.profile = tempfile.mkdtemp(prefix="sslx-chromium-")
        arguments = [chromium, "--headless", "--disable-gpu", "--no-first-run",
                     "--no-default-browser-check", "--disable-extensions",
                     "--remote-debugging-port=0", "--user-data-dir=" + self.profile,
                     "--window-size=1280,1024", "about:blank"]
        if os.geteuid() == 0:
            arguments.insert(1, "--no-sandbox")  # Chromium refuses to run as root otherwise
        self.log = open(os.path.join(self.profile, "chromium.log"), "w+")
        # TMPDIR too: Chromium leaves its singleton socket folder there.
        environment = dict(os.environ, TMPDIR=self.profile)
        self.process = subprocess.Popen(arguments, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True, env=environment)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while not (os.path.exists(port_file) and len(open(port_file).read().split("\n")) >= 2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                raise RuntimeError("chromium did not start its DevTools endpoint:\n" +
                                   self.log.read()[-3000:])
            time.sleep(0.05)
        port, path = open(port_file).read().split("\n")[:2]
        self.ws = WebSocket(int(port), path, timeout)
        self.next_id = 0
        self.events = []
        self.session = None
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            self.call(domain + ".enable")

    def call(self, method, params=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.receive())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for_event(self, method, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event["method"] == method:
                    return event
            if time.monotonic() > deadline:
                raise TimeoutError("no " + method)
            self.events.append(json.loads(self.ws.receive()))

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError("evaluating in the page failed: " +
                               json.dumps(result["exceptionDetails"])[:500])
        return result["result"].get("value")

    def console_errors(self):
        errors = []
        for event in self.events:
            params = event.get("params", {})
            if event["method"] == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                errors.append("exception: " + details.get("exception", {}).get(
                    "description", details.get("text", "")))
            elif event["method"] == "Runtime.consoleAPICalled" and params["type"] in (
                    "error", "assert"):
                errors.append("console." + params["type"] + ": " + " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params["args"]))
            elif event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
                errors.append("log: " + params["entry"]["text"])
        return errors

    def close(self):
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


# What the page shows of the comparison table and the plots, read after load.
READ_PAGE = r"""
(function () {
  var table = document.getElementById('comparison');
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells).map(function (th) {
    return {column: th.getAttribute('data-column'), percent: th.hasAttribute('data-percent'),
            better: th.getAttribute('data-better'), text: th.textContent};
  });
  var rows = Array.prototype.slice.call(table.tBodies[0].rows).map(function (tr) {
    return {group: tr.getAttribute('data-group'), cells: Array.prototype.slice.call(tr.cells).map(
      function (td) {
        return {text: td.textContent, mean: td.getAttribute('data-mean'),
                std: td.getAttribute('data-std'), best: td.classList.contains('best'),
                missing: td.hasAttribute('data-missing')};
      })};
  });
  var plots = Array.prototype.slice.call(document.querySelectorAll('img.plot')).map(function (img) {
    var box = img.getBoundingClientRect();
    return {alt: img.alt, complete: img.complete, naturalWidth: img.naturalWidth,
            naturalHeight: img.naturalHeight, width: box.width, height: box.height};
  });
  return {headers: headers, rows: rows, plots: plots};
})()
"""

# Clicks header `column` (twice when `clicks` is 2) and returns the column's data-values in the
# order the rows then have (null for a missing value).
SORT_BY = r"""
(function (column, clicks) {
  var table = document.getElementById('comparison');
  for (var i = 0; i < clicks; ++i) table.tHead.rows[0].cells[column].click();
  return Array.prototype.slice.call(table.tBodies[0].rows).map(function (tr) {
    var value = tr.cells[column].getAttribute('data-value');
    return value === null ? null : parseFloat(value);
  });
})(%d, %d)
"""

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[kMG])?")
SCALE = {"k": 1e3, "M": 1e6, "G": 1e9}


def shown_numbers(text):
    """The numbers a cell shows ("45.2 ± 1.3" -> [(45.2, 0.05), (1.3, 0.05)]), each with half a
    unit of its last digit: how far the shown value may be from the exact one."""
    numbers = []
    for match in NUMBER.findall(text.replace("\u2212", "-")):
        scale = SCALE.get(match[-1], 1.0)
        digits = match.rstrip("kMG")
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        numbers.append((float(digits) * scale, 0.5 * 10 ** -decimals * scale))
    return numbers


def check_table(page, table_csv, failures):
    with open(table_csv, newline="") as f:
        reader = csv.DictReader(f)
        csv_rows = list(reader)
        columns = [name[:-5] for name in reader.fieldnames if name.endswith("_mean")]
    headers = page["headers"]
    shown_columns = [h["column"] for h in headers[2:]]
    if shown_columns != columns:
        failures.append(f"table columns {shown_columns} differ from table.csv's {columns}")
        return
    rows = {row["group"]: row for row in page["rows"]}
    if sorted(rows) != sorted(r["group"] for r in csv_rows):
        failures.append(f"table groups {sorted(rows)} differ from table.csv's "
                        f"{sorted(r['group'] for r in csv_rows)}")
        return
    for expected in csv_rows:
        row = rows[expected["group"]]
        if row["cells"][1]["text"] != expected["n"]:
            failures.append(f"{expected['group']}: seeds {row['cells'][1]['text']!r}, "
                            f"table.csv says {expected['n']}")
        for index, column in enumerate(columns):
            cell = row["cells"][index + 2]
            where = f"{expected['group']} / {column}"
            mean_text, std_text = expected[column + "_mean"], expected[column + "_std"]
            if mean_text == "":
                if not cell["missing"]:
                    failures.append(f"{where}: shows {cell['text']!r}, table.csv has no value")
                continue
            mean, std = float(mean_text), float(std_text)
            for name, attribute, exact in (("mean", cell["mean"], mean), ("std", cell["std"], std)):
                if attribute is None or not math.isclose(float(attribute), exact, rel_tol=1e-9,
                                                         abs_tol=1e-12):
                    failures.append(f"{where}: data-{name} {attribute}, table.csv {exact!r}")
            scale = 100.0 if headers[index + 2]["percent"] else 1.0
            numbers = shown_numbers(cell["text"])
            shown_expected = [mean * scale] + ([std * scale] if "±" in cell["text"] else [])
            if len(numbers) != len(shown_expected):
                failures.append(f"{where}: shows {cell['text']!r}, expected {len(shown_expected)} "
                                "numbers")
                continue
            for (value, slack), exact in zip(numbers, shown_expected):
                if abs(value - exact) > slack * (1 + 1e-9) + 1e-12:
                    failures.append(f"{where}: shows {cell['text']!r}, table.csv gives "
                                    f"{exact:.6g}")
    # The best of each column with a direction, from table.csv's means.
    for index, column in enumerate(columns):
        better = headers[index + 2]["better"]
        values = {r["group"]: float(r[column + "_mean"]) for r in csv_rows
                  if r[column + "_mean"] != ""}
        marked = sorted(g for g, row in rows.items() if row["cells"][index + 2]["best"])
        if better is None or not values:
            if marked:
                failures.append(f"{column} has no direction, yet {marked} are marked best")
            continue
        best = min(values.values()) if better == "lower" else max(values.values())
        expected = sorted(g for g, v in values.items() if v == best)
        if marked != expected:
            failures.append(f"{column} ({better} is better): marked best {marked}, "
                            f"table.csv's best {expected}")
    return columns


def check_sorting(browser, page, failures):
    headers = page["headers"]
    for index in range(2, len(headers)):
        values = browser.evaluate(SORT_BY % (index, 1))
        present = [v for v in values if v is not None]
        if len(set(present)) < 2:
            continue  # nothing to order by in this column: try the next
        descending = browser.evaluate(SORT_BY % (index, 1))
        present_descending = [v for v in descending if v is not None]
        if present != sorted(present) or present_descending != sorted(present, reverse=True):
            failures.append(f"clicking {headers[index]['text']!r} does not sort: "
                            f"{present} then {present_descending}")
        if values[len(present):] != [None] * (len(values) - len(present)):
            failures.append(f"clicking {headers[index]['text']!r} puts missing values first")
        return
    failures.append("no column has two different values to sort by")


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return 0, 0
    return struct.unpack(">II", head[16:24])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chromium", required=True)
    parser.add_argument("report")
    parser.add_argument("table_csv")
    parser.add_argument("out_dir")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    failures = []
    try:
        browser = Browser(args.chromium)
    except (RuntimeError, OSError) as error:
        print(f"check_html_report: {error}", file=sys.stderr)
        return 2
    try:
        browser.call("Page.navigate", {"url": "file://" + os.path.abspath(args.report)})
        browser.wait_for_event("Page.loadEventFired")
        page = browser.evaluate(READ_PAGE)
        with open(os.path.join(args.out_dir, "dom.html"), "w") as f:
            f.write(browser.evaluate("document.documentElement.outerHTML"))
        shot = browser.call("Page.captureScreenshot",
                            {"format": "png", "captureBeyondViewport": True})
        screenshot = os.path.join(args.out_dir, "screenshot.png")
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        check_table(page, args.table_csv, failures)
        if not page["plots"]:
            failures.append("the page has no plots")
        for plot in page["plots"]:
            if not plot["complete"] or min(plot["naturalWidth"], plot["naturalHeight"],
                                           plot["width"], plot["height"]) <= 0:
                failures.append(f"plot {plot['alt']!r} did not render: {plot}")
        check_sorting(browser, page, failures)
        width, height = png_size(screenshot)
        if width <= 0 or height <= 0:
            failures.append("the screenshot is not a PNG image")
        failures += browser.console_errors()
    finally:
        browser.close()
    summary = (f"{len(page['rows'])} groups x {len(page['headers']) - 2} columns, "
               f"{len(page['plots'])} plots, screenshot {width}x{height}")
    if failures:
        print("check_html_report: FAILED (" + summary + ")")
        for failure in failures:
            print("  - " + failure)
        return 1
    print("check_html_report: ok (" + summary + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
