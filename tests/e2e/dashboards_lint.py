"""Structural lint of every Grafana dashboard in dashboards/: a stable uid, a
`datasource` variable used by every panel and target, unique panel ids, grid
positions inside 24 columns without overlaps, a unit and a description on
every panel, counters only under rate()/increase(), $__rate_interval rather
than fixed short windows, and JSON equal to what generate.py produces.

usage: dashboards_lint.py DASHBOARDS_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile

from e2e_common import check, main

COUNTER_SERIES = re.compile(r"\b(slawatch_[a-z0-9_]+_(?:total|bucket|count|sum))\b")
RANGE_FUNCTIONS = {"rate", "increase", "irate"}


def load_dashboards(folder):
    dashboards = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".json"):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                dashboards[name] = json.load(f)
    return dashboards


def panel_queries(dashboard):
    """(panel, expr) for every target of every panel."""
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            yield panel, target.get("expr", "")


def counters_outside_rate(expr):
    """Counter series not enclosed in rate()/increase() anywhere up the call stack."""
    stack = []
    bad = []
    token = re.compile(r"[A-Za-z_][A-Za-z0-9_:]*|\(|\)|\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"|.", re.S)
    previous = None
    for match in token.finditer(expr):
        text = match.group(0)
        if text == "(":
            stack.append(previous if previous and re.match(r"[A-Za-z_]", previous) else "")
        elif text == ")":
            if stack:
                stack.pop()
        elif COUNTER_SERIES.fullmatch(text) and not RANGE_FUNCTIONS.intersection(stack):
            bad.append(text)
        if not text.isspace():
            previous = text
    return bad


def lint(name, dashboard):
    problems = []
    uid = dashboard.get("uid", "")
    if not re.fullmatch(r"slawatch-[a-z0-9-]+", uid) or name != uid + ".json":
        problems.append(f"uid {uid!r} must be slawatch-... and name the file")
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    source = variables.get("datasource")
    if not source or source.get("type") != "datasource" or source.get("query") != "prometheus":
        problems.append("no `datasource` variable of type datasource (prometheus)")
    ids = [panel.get("id") for panel in dashboard.get("panels", [])]
    if len(ids) != len(set(ids)) or None in ids:
        problems.append(f"panel ids not unique: {ids}")
    if not ids:
        problems.append("no panels")
    cells = {}
    for panel in dashboard.get("panels", []):
        title = panel.get("title", f"panel {panel.get('id')}")
        grid = panel.get("gridPos", {})
        x, y, w, h = (grid.get(k) for k in ("x", "y", "w", "h"))
        if not all(isinstance(v, int) for v in (x, y, w, h)) or x < 0 or w < 1 or h < 1 or x + w > 24:
            problems.append(f"{title}: gridPos {grid} is not inside 24 columns")
        else:
            for col in range(x, x + w):
                for row in range(y, y + h):
                    if (col, row) in cells:
                        problems.append(f"{title}: overlaps {cells[(col, row)]}")
                        break
                    cells[(col, row)] = title
        if not panel.get("description", "").strip():
            problems.append(f"{title}: no description")
        if not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            problems.append(f"{title}: no unit")
        if panel.get("datasource", {}).get("uid") != "${datasource}":
            problems.append(f"{title}: panel does not use the datasource variable")
        if not panel.get("targets"):
            problems.append(f"{title}: no queries")
        for target in panel.get("targets", []):
            expr = target.get("expr", "")
            if target.get("datasource", {}).get("uid") != "${datasource}":
                problems.append(f"{title}: target {target.get('refId')} does not use the datasource variable")
            for counter in counters_outside_rate(expr):
                problems.append(f"{title}: counter {counter} outside rate()/increase(): {expr}")
            for window in re.findall(r"\[(\d+[smh])\]", expr):
                if window.endswith("s") or window in ("1m", "2m", "5m"):
                    problems.append(f"{title}: fixed short window [{window}]; use $__rate_interval: {expr}")
    return problems


def test(argv):
    check(len(argv) == 1, "usage: dashboards_lint.py DASHBOARDS_DIR")
    folder = os.path.abspath(argv[0])
    dashboards = load_dashboards(folder)
    check(len(dashboards) >= 4, f"expected at least 4 dashboards in {folder}, found {sorted(dashboards)}")
    uids = [d.get("uid") for d in dashboards.values()]
    check(len(uids) == len(set(uids)), f"dashboard uids not unique: {uids}")
    # The lint itself must catch what it claims to: a counter outside rate().
    check(counters_outside_rate("sum(slawatch_alerts_total)") == ["slawatch_alerts_total"] and
          not counters_outside_rate("sum(rate(slawatch_alerts_total{a=\"b\"}[5m])) / sum(slawatch_open_cycles)"),
          "counters_outside_rate does not tell a bare counter from a rated one")
    problems = [f"{name}: {p}" for name, d in dashboards.items() for p in lint(name, d)]
    check(not problems, "dashboard lint:\n  " + "\n  ".join(problems))
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, os.path.join(folder, "generate.py"), out], check=True,
                       capture_output=True)
        stale = [name for name, d in dashboards.items() if load_dashboards(out).get(name) != d]
        check(not stale and sorted(load_dashboards(out)) == sorted(dashboards),
              f"dashboards differ from generate.py output (run python3 dashboards/generate.py): {stale}")
    panels = sum(len(d["panels"]) for d in dashboards.values())
    print(f"linted {len(dashboards)} dashboards, {panels} panels")


if __name__ == "__main__":
    main(test)
