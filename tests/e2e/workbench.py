"""The workbench (/ui/) in headless Chromium, as an inspector would use it.

`slawatch run` on a file of simulated traffic (`slawatch simulate`, the last
five days, cases left open after a first response, some of those late) with the shipped rules and roster and
`http: {time_zone: Asia/Shanghai}`. Chromium is driven by chromedriver over its
W3C WebDriver HTTP API (urllib, no pip):
  1. Breaches now: the page lists the firing alerts; filtering by the
     department with most breaches (clicking its option and Apply) shows
     exactly the API's alerts of that department; the CSV export holds the
     same rows as GET /api/v1/alerts?format=csv with the same filter, in the
     order shown; clicking a column header sorts by it, again reverses.
  2. Case timeline: clicking a case opens it; the SVG draws one bar per cycle
     and a marker per due stage; the stage table shows each due time in
     Shanghai time and the people on duty the API names.
  3. Ledger: the headline's numbers are the API's, and the API's ledger CSV
     is `slawatch report accountability --state` on the same state (every
     column but the open breaches' overdue, which grows with the clock).
  4. The language switch relabels the page; Accept-Language picks Chinese.
  5. First of all: the monitor has a read token; the API refuses a request
     without it (401) and the page asks for it once, then reads with it.
With SLAWATCH_SCREENSHOTS=DIR set, a PNG of each view goes to DIR (docs/).
Exit 77 (skipped) only when chromium or chromedriver is not installed.

usage: workbench.py SLAWATCH PROJECT_SOURCE_DIR
"""
import base64
import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from e2e_common import TempDir, check, main, run_ok
from live_monitor import Monitor, wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CITY = ZoneInfo("Asia/Shanghai")
READ_TOKEN = "e2e-read-token-0123456789"
AUTHORIZATION = {"Authorization": "Bearer " + READ_TOKEN}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,1000"]


def get_json(url):
    request = urllib.request.Request(url, headers=AUTHORIZATION)
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


def get_text(url, headers=None):
    request = urllib.request.Request(url, headers=dict(AUTHORIZATION, **(headers or {})))
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.read().decode("utf-8")


def all_alerts(api, params):
    """Every alert the API lists for `params`, following the cursor."""
    out, cursor = [], None
    while True:
        query = dict(params, limit="1000")
        if cursor:
            query["cursor"] = cursor
        body = get_json(api + "/alerts?" + urllib.parse.urlencode(query))
        out.extend(body["alerts"])
        cursor = body["next_cursor"]
        if not cursor:
            return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """One Chromium session through chromedriver's W3C WebDriver endpoints."""

    ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

    def __init__(self, work, language):
        self.port = free_port()
        self.log = open(os.path.join(work, "chromedriver.log"), "wb")
        self.driver = subprocess.Popen([CHROMEDRIVER, f"--port={self.port}"], stdout=self.log, stderr=self.log)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if self._call("GET", "/status")["ready"]:
                    break
            except OSError:
                time.sleep(0.1)
        profile = os.path.join(work, "chromium-profile-" + language)
        options = {"binary": CHROMIUM, "args": CHROMIUM_FLAGS + [f"--user-data-dir={profile}", f"--lang={language}"],
                   "prefs": {"intl.accept_languages": language}}
        session = self._call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options}}})
        self.session = f"/session/{session['sessionId']}"

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as e:
            raise AssertionError(f"webdriver {method} {path}: {e.code} {e.read()[:500]!r}") from None

    def call(self, method, path, body=None):
        return self._call(method, self.session + path, body)

    def go(self, url):
        self.call("POST", "/url", {"url": url})

    def script(self, source, *args):
        return self.call("POST", "/execute/sync", {"script": source, "args": list(args)})

    def async_script(self, source, *args):
        return self.call("POST", "/execute/async", {"script": source, "args": list(args)})

    def find(self, css):
        found = self.call("POST", "/element", {"using": "css selector", "value": css})
        check(isinstance(found, dict) and self.ELEMENT in found, f"no element {css}: {found}")
        return found[self.ELEMENT]

    def click(self, css):
        self.call("POST", f"/element/{self.find(css)}/click", {})

    def wait_loaded(self, prefix, seconds=30):
        """Until the page has drawn the view whose route starts with `prefix` (body data-loaded)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            loaded = self.script("return document.body.dataset.loaded || '';")
            if loaded.startswith(prefix):
                error = self.script("const e = document.getElementById('error'); return e.hidden ? '' : e.textContent;")
                check(not error, f"the page shows an error on {loaded}: {error}")
                return loaded
            time.sleep(0.1)
        check(False, f"the page never finished {prefix}: {self.script('return document.body.dataset.loaded;')!r}")

    def screenshot(self, name):
        folder = os.environ.get("SLAWATCH_SCREENSHOTS")
        if not folder:
            return
        png = base64.b64decode(self.call("GET", "/screenshot"))
        with open(os.path.join(folder, name), "wb") as f:
            f.write(png)

    def close(self):
        try:
            self.call("DELETE", "")
        finally:
            self.driver.terminate()
            self.driver.wait(timeout=20)
            self.log.close()


def city_time(iso):
    """What the page shows for an RFC 3339 time: 'YYYY-MM-DD HH:MM' in Shanghai."""
    t = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(CITY)
    return t.strftime("%Y-%m-%d %H:%M")


def check_read_token(browser, api, ui):
    """The API wants the read token; the page asks for it once and then reads."""
    try:
        urllib.request.urlopen(api + "/alerts", timeout=20)
        check(False, "the API answered without the read token")
    except urllib.error.HTTPError as e:
        check(e.code == 401, f"without the read token: {e.code}, expected 401")
    browser.go(ui + "#/breaches")
    deadline = time.monotonic() + 20
    while browser.script("return document.getElementById('token-form').hidden;"):
        check(time.monotonic() < deadline, "the page never asked for the read token")
        time.sleep(0.1)
    browser.call("POST", f"/element/{browser.find('#token')}/value", {"text": READ_TOKEN})
    browser.click("#token-form button")


def check_breaches(browser, api, ui):
    browser.wait_loaded("/breaches")
    firing = all_alerts(api, {"state": "firing"})
    shown = int(browser.script("return document.getElementById('alert-count').dataset.count;"))
    check(shown == len(firing), f"Breaches now shows {shown} alerts, the API has {len(firing)} firing")
    check(len(firing) > 0, "the simulated traffic has no firing alerts")
    browser.screenshot("workbench-breaches.png")

    by_department = {}
    for a in firing:
        by_department[a["department"]] = by_department.get(a["department"], 0) + 1
    department = max(sorted(by_department), key=lambda d: by_department[d])
    browser.click(f"select[name=department] option[value='{department}']")
    browser.click("#alert-filters button[type=submit]")
    browser.wait_loaded("/breaches?state=firing&department=")
    expected = all_alerts(api, {"state": "firing", "department": department})
    rows = browser.script("return [...document.querySelectorAll('#alerts tbody tr')].map(r => r.dataset.alert);")
    check(sorted(rows) == sorted(a["alert_id"] for a in expected),
          f"filtered by {department}: the page shows {len(rows)} alerts, the API {len(expected)}")
    check(len(rows) == by_department[department] or len(rows) >= 1, "no rows after filtering")

    browser.click("#export-csv")
    exported = browser.async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(document.getElementById('csv-link').href).then(r => r.text()).then(done);")
    from_api = get_text(api + "/alerts?" + urllib.parse.urlencode(
        {"state": "firing", "department": department, "format": "csv"}))
    page_lines, api_lines = exported.splitlines(), from_api.splitlines()
    check(page_lines[0] == api_lines[0], f"CSV headers differ: {page_lines[0]!r} vs {api_lines[0]!r}")
    check(sorted(page_lines[1:]) == sorted(api_lines[1:]),
          f"the exported CSV ({len(page_lines) - 1} rows) differs from the API's ({len(api_lines) - 1})")
    check(len(page_lines) - 1 == len(rows), "the CSV does not hold exactly the rows shown")
    due_order = [row["due_at"] for row in csv.DictReader(io.StringIO(exported))]
    check(due_order == sorted(due_order), "the export is not in the order shown (by due time)")
    # Sorting: a click on Overdue sorts the rows by it, a second click reverses them.
    overdue = "return [...document.querySelectorAll('#alerts tbody tr')].map(r => r.dataset.alert);"
    browser.click("#alerts th[data-sort=overdue]")
    ascending = browser.script(overdue)
    browser.click("#alerts th[data-sort=overdue]")
    descending = browser.script(overdue)
    by_due = {a["alert_id"]: a["event"]["data"]["due_at"] for a in expected}
    check([by_due[i] for i in ascending] == sorted((by_due[i] for i in ascending), reverse=True),
          "sorted by overdue, the longest overdue (earliest due) does not come last")
    check(descending == list(reversed(ascending)) or len(set(by_due.values())) < len(by_due),
          "a second click does not reverse the order")
    return expected


def check_case(browser, api, alerts):
    # The case with most events among those shown (the fullest timeline), ties by id.
    cases = sorted({a["event"]["data"]["case_id"] for a in alerts})
    case_id = max(cases, key=lambda c: (len(get_json(api + "/cases/" + urllib.parse.quote(c))["events"]), c))
    browser.click(f"#alerts a[href='#/case/{urllib.parse.quote(case_id)}']")
    browser.wait_loaded("/case/" + case_id)
    case = get_json(api + "/cases/" + urllib.parse.quote(case_id))
    cycles = [c for r in case["rules"] for c in r["cycles"]]
    drawn = browser.script("return document.querySelectorAll('#timeline rect.cycle').length;")
    check(drawn == len(cycles), f"{case_id}: the timeline draws {drawn} cycles, the API has {len(cycles)}")
    blocks = browser.script("return document.querySelectorAll('.cycle-block').length;")
    check(blocks == len(cycles), f"{case_id}: {blocks} cycle sections for {len(cycles)} cycles")
    due = [(r["rule"], c["cycle"], s) for r in case["rules"] for c in r["cycles"] for s in c["stages"] if s["due_at"]]
    markers = browser.script("return document.querySelectorAll('#timeline g.stage[data-stage]').length;")
    check(markers == len(due), f"{case_id}: {markers} due markers for {len(due)} due stages")
    for rule, cycle, stage in due:
        shown = browser.script(
            "const b = document.querySelector(`.cycle-block[data-rule='${arguments[0]}'][data-cycle='${arguments[1]}']`);"
            "const r = b.querySelector(`tr[data-stage='${arguments[2]}']`);"
            "return [r.querySelector('td.due').textContent, r.lastChild.textContent];", rule, cycle, stage["stage"])
        check(shown[0] == city_time(stage["due_at"]),
              f"{case_id} {rule}#{cycle} {stage['stage']}: due shown {shown[0]!r}, expected {city_time(stage['due_at'])}")
        for duty in stage["on_duty"]:
            if duty["person"]:
                check(duty["person"] in shown[1], f"{case_id} {stage['stage']}: {duty['person']} not in {shown[1]!r}")
    events = browser.script("return document.querySelectorAll('#case-events tr[id]').length;")
    check(events == len(case["events"]), f"{case_id}: {events} events shown of {len(case['events'])}")
    browser.screenshot("workbench-case.png")


def ledger_columns(text):
    """The ledger CSV without the columns that grow with the clock (open breaches' overdue)."""
    rows = list(csv.reader(io.StringIO(text)))
    keep = [i for i, h in enumerate(rows[0]) if h not in ("overdue_total_seconds", "overdue_max_seconds")]
    return sorted(tuple(r[i] for i in keep) for r in rows)


def check_ledger(browser, api, ui, start, end):
    params = {"from": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "to": end.strftime("%Y-%m-%dT%H:%M:%SZ")}
    browser.go(ui + "#/ledger?" + urllib.parse.urlencode(params))
    browser.wait_loaded("/ledger")
    ledger = get_json(api + "/ledger?" + urllib.parse.urlencode(params))
    headline = browser.script("return document.getElementById('ledger-headline').textContent;")
    total = ledger["total"]
    expected = (f"{total['cases']} cases, {ledger['person_times']} person-times: {total['breaches']} breached stages "
                f"({total['discipline_inspection']} escalated to discipline inspection), {total['returns']} returns, "
                f"{total['transfers']} transfers")
    check(headline == expected, f"ledger headline {headline!r}, expected {expected!r}")
    check(total["breaches"] > 0, "the ledger has no breaches")
    departments = browser.script("return document.querySelectorAll('#ledger-departments tr').length - 1;")
    check(departments == len(ledger["departments"]), f"{departments} department rows of {len(ledger['departments'])}")
    browser.screenshot("workbench-ledger.png")
    return params, get_text(api + "/ledger?" + urllib.parse.urlencode(dict(params, format="csv")))


def test(argv):
    check(len(argv) == 2, "usage: workbench.py SLAWATCH PROJECT_SOURCE_DIR")
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        print(f"SKIP: {CHROMIUM} or {CHROMEDRIVER} not installed (scripts/setup installs them)")
        sys.exit(77)
    slawatch, root = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    with TempDir("workbench") as work:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        start = now - timedelta(days=5)
        events = os.path.join(work, "events.jsonl")
        # Cases left open after their first response: their handling deadlines stand breached now.
        run_ok([slawatch, "simulate", "--cases", "300", "--span", "4d", "--seed", "18", "--leave-open",
                "--start", start.strftime("%Y-%m-%dT%H:%M:%SZ"), "--late-first-response", "0.3",
                "--out", events], "simulate")
        config = os.path.join(work, "slawatch.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(f"rules: {os.path.join(root, 'rules')}\nroster: {os.path.join(root, 'config', 'roster.yaml')}\n"
                    f"state_dir: state\ngrace: 0s\ninput: events.jsonl\nalerts_output: alerts.jsonl\n"
                    f"http: {{listen: '127.0.0.1:0', time_zone: Asia/Shanghai, read_token: {READ_TOKEN}}}\n")
        monitor = Monitor(slawatch, config, work)
        browser = None
        try:
            api, ui = monitor.url + "/api/v1", monitor.url + "/ui/"
            # The whole file read: the last event's case is in the state.
            with open(events, encoding="utf-8") as f:
                last_case = json.loads(f.readlines()[-1])["subject"]

            def read_all():
                try:
                    get_json(api + "/cases/" + urllib.parse.quote(last_case))
                    return True
                except urllib.error.HTTPError:
                    return False
            wait_for(read_all, "the monitor to read the whole file", monitor, seconds=60)

            # Accept-Language picks the page's language.
            page = get_text(ui, {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
            check('<html lang="zh">' in page, "Accept-Language zh-CN did not pick Chinese")
            check('<html lang="en">' in get_text(ui, {"Accept-Language": "de-DE,en;q=0.5"}), "en not picked")

            browser = Browser(work, "en-US")
            check_read_token(browser, api, ui)
            alerts = check_breaches(browser, api, ui)
            check_case(browser, api, alerts)
            params, ledger_csv = check_ledger(browser, api, ui, start, now - timedelta(minutes=60))

            browser.click("#lang option[value='zh']")
            browser.wait_loaded("/ledger")
            label = browser.script("return document.getElementById('nav-breaches').textContent;")
            check(label == "当前超时", f"after switching to Chinese the Breaches tab reads {label!r}")
            browser.go(ui + "#/breaches")
            browser.wait_loaded("/breaches")
            browser.screenshot("workbench-breaches-zh.png")
        finally:
            if browser:
                browser.close()
            monitor.stop()
        report = run_ok([slawatch, "report", "accountability", "--state", os.path.join(work, "state"),
                         "--rules", os.path.join(root, "rules"), "--roster", os.path.join(root, "config", "roster.yaml"),
                         "--from", params["from"], "--to", params["to"], "--format", "csv"], "report accountability")
        check(ledger_columns(report.stdout_text) == ledger_columns(ledger_csv),
              f"the API's ledger differs from `slawatch report accountability`:\n{ledger_csv}\n---\n{report.stdout_text}")


if __name__ == "__main__":
    main(test)
