#!/usr/bin/env python3
"""Generates slawatch's Grafana dashboards (JSON next to this script) so that
they share one set of conventions: a `datasource` variable, stable uids,
`$__rate_interval`, a unit and a description on every panel, counters only
under rate()/increase(). Edit this file, run it, commit both.

usage: python3 dashboards/generate.py [OUT_DIR]   (default: this folder)
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
FIRST_RESPONSE_LIMIT = "1800"   # seconds: the 30-minute first-response SLA
EMERGENCY_LIMIT = "86400"       # seconds: the 24-hour emergency SLA
DISCIPLINE_ROLE = "city.discipline_inspection"
BUCK_PASSING_RULES = "repeated-return|repeated-transfer"
# Closed deadline cycles by their elapsed time on the rule's calendar; the
# first-response and emergency-handling rules are the two SLAs leadership reads.
CYCLES = "slawatch_cycle_elapsed_seconds"
FIRST_RESPONSE = 'rule="first-response"'
EMERGENCY = 'rule="emergency-handling"'


# Alert and cycle series of a candidate rule set run beside the active one
# (shadow rules) carry ruleset="shadow"; every panel except the comparison
# counts the active rules only.
RULE_DEPENDENT = re.compile(r"\b(slawatch_(?:alerts_total|overdue_alerts|cycles_opened_total|cycles_met_total|"
                            r"cycles_breached_total|open_cycles|rules_reloads_total|"
                            r"cycle_elapsed_seconds(?:_bucket|_count|_sum)?))(\{([^}]*)\})?")
ACTIVE_ONLY = 'ruleset!="shadow"'


def add_matchers(series, matchers, expr):
    """Adds `matchers` to every selector of a metric `series` matches (groups: name, braces, inside)."""
    def add(match):
        inner = match.group(3)
        return f"{match.group(1)}{{{inner + ',' if inner else ''}{matchers}}}"
    return series.sub(add, expr)


def active_rules_only(expr):
    return add_matchers(RULE_DEPENDENT, ACTIVE_ONLY, expr)


# Every dashboard has `job` and `instance` variables (from slawatch_build_info)
# and every series selector is narrowed to them, so one Grafana serves several
# monitors (a city each, or a test instance beside production).
ANY_SERIES = re.compile(r"\b(slawatch_[a-z_]+)(\{([^}]*)\})?(?![a-z_(])")
INSTANCE_SELECTOR = 'job=~"$job",instance=~"$instance"'


def this_instance_only(expr):
    return add_matchers(ANY_SERIES, INSTANCE_SELECTOR, expr)


def instance_variables():
    def variable(name, label, query):
        return {"name": name, "label": label, "type": "query", "datasource": DATASOURCE,
                "query": {"query": query, "refId": name}, "definition": query, "refresh": 2, "sort": 1,
                "current": {}, "hide": 0, "includeAll": True, "allValue": ".*", "multi": True, "options": []}
    return [variable("job", "Job", "label_values(slawatch_build_info, job)"),
            variable("instance", "Instance", 'label_values(slawatch_build_info{job=~"$job"}, instance)')]


def ratio_within(histogram, limit, window, selector=""):
    inner = f"{{{selector}}}" if selector else ""
    bucket_selector = f'{{{selector + "," if selector else ""}le="{limit}"}}'
    return (f"sum(increase({histogram}_bucket{bucket_selector}[{window}])) / "
            f"sum(increase({histogram}_count{inner}[{window}]))")


def quantile(q, histogram, selector=""):
    inner = f"{{{selector}}}" if selector else ""
    return f"histogram_quantile({q}, sum by (le) (rate({histogram}_bucket{inner}[$__rate_interval])))"


class Dashboard:
    def __init__(self, uid, title, description, tags, variables=()):
        self.uid, self.title, self.description, self.tags = uid, title, description, tags
        self.variables = list(variables)
        self.panels = []
        self.x = self.y = self.row_height = 0

    def panel(self, kind, title, description, unit, targets, width=6, height=6, all_rulesets=False, **options):
        if not all_rulesets:
            targets = [(active_rules_only(expr), legend) for expr, legend in targets]
        targets = [(this_instance_only(expr), legend) for expr, legend in targets]
        if self.x + width > 24:
            self.x, self.y = 0, self.y + self.row_height
            self.row_height = 0
        panel = {
            "id": len(self.panels) + 1,
            "type": kind,
            "title": title,
            "description": description,
            "datasource": DATASOURCE,
            "gridPos": {"x": self.x, "y": self.y, "w": width, "h": height},
            "fieldConfig": {"defaults": {"unit": unit, **options.pop("defaults", {})}, "overrides": []},
            "options": options.pop("panel_options", {}),
            "targets": [
                {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend,
                 **({"instant": True, "format": "table"} if kind in ("table", "bargauge") else {})}
                for i, (expr, legend) in enumerate(targets)
            ],
        }
        panel.update(options)
        self.panels.append(panel)
        self.x += width
        self.row_height = max(self.row_height, height)

    def stat(self, title, description, unit, expr, **options):
        self.panel("stat", title, description, unit, [(expr, "")], **options)

    def timeseries(self, title, description, unit, targets, width=12, height=8, **options):
        self.panel("timeseries", title, description, unit, targets, width=width, height=height, **options)

    def to_json(self):
        templating = [{
            "name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
            "current": {}, "hide": 0, "refresh": 1, "options": [], "includeAll": False, "multi": False,
        }] + instance_variables() + self.variables
        return {
            "uid": self.uid, "title": self.title, "description": self.description, "tags": self.tags,
            "editable": True, "graphTooltip": 1, "schemaVersion": 39, "version": 1, "timezone": "browser",
            "time": {"from": "now-24h", "to": "now"}, "refresh": "1m",
            "templating": {"list": templating}, "annotations": {"list": []}, "links": [],
            "panels": self.panels,
        }


def percent_thresholds(red_below):
    return {"thresholds": {"mode": "absolute", "steps": [
        {"color": "red", "value": None}, {"color": "orange", "value": red_below},
        {"color": "green", "value": min(0.99, red_below + 0.05)}]}, "min": 0, "max": 1}


def leadership():
    d = Dashboard("slawatch-city-overview", "slawatch / City leadership overview",
                  "SLA compliance of the city hotline: first response, emergencies, breaches, satisfaction.",
                  ["slawatch", "sla", "leadership"])
    d.stat("First response within 30 min (24 h)", "Share of first-response cycles (dispatch to "
           "acknowledgement, return, resolution or closure) closed within 30 minutes, among those closed in "
           "the last 24 hours.", "percentunit",
           ratio_within(CYCLES, FIRST_RESPONSE_LIMIT, "1d", FIRST_RESPONSE), defaults=percent_thresholds(0.9))
    d.stat("First response within 30 min (7 days)", "The same share over the last 7 days.", "percentunit",
           ratio_within(CYCLES, FIRST_RESPONSE_LIMIT, "7d", FIRST_RESPONSE), defaults=percent_thresholds(0.9))
    d.stat("Emergencies handled within 24 h (24 h)", "Share of emergency cases resolved within 24 hours of "
           "registration, among those resolved in the last 24 hours.", "percentunit",
           ratio_within(CYCLES, EMERGENCY_LIMIT, "1d", EMERGENCY), defaults=percent_thresholds(0.95))
    d.stat("Emergencies handled within 24 h (7 days)", "The same share over the last 7 days.", "percentunit",
           ratio_within(CYCLES, EMERGENCY_LIMIT, "7d", EMERGENCY), defaults=percent_thresholds(0.95))
    d.stat("Breaches (24 h)", "Deadline cycles closed after their breach stage fell due, last 24 hours.", "short",
           "sum(increase(slawatch_cycles_breached_total[1d]))")
    d.stat("Escalations to discipline inspection (24 h)", "Alerts that notified the discipline inspection "
           "office in the last 24 hours.", "short",
           f'sum(increase(slawatch_alert_notifications_total{{role="{DISCIPLINE_ROLE}"}}[1d]))')
    d.stat("Overdue now", "Stages fired and not yet resolved or retracted.", "short",
           "sum(slawatch_overdue_alerts)")
    d.stat("Satisfaction rate (7 days)", "Share of return visits where the citizen was satisfied.",
           "percentunit", 'sum(increase(slawatch_feedback_total{satisfied="true"}[7d])) / '
           "sum(increase(slawatch_feedback_total[7d]))", defaults=percent_thresholds(0.8))
    d.timeseries("Compliance trend", "First-response and emergency compliance over time.", "percentunit", [
        (ratio_within(CYCLES, FIRST_RESPONSE_LIMIT, "$__rate_interval", FIRST_RESPONSE),
         "first response within 30 min"),
        (ratio_within(CYCLES, EMERGENCY_LIMIT, "$__rate_interval", EMERGENCY), "emergencies within 24 h"),
    ])
    d.panel("bargauge", "Top 10 departments by breaches (7 days)", "Departments with the most breach "
            "stages fired in the last 7 days.", "short",
            [("topk(10, sum by (department) (increase(slawatch_cycles_breached_total[7d])))", "{{department}}")],
            width=12, height=8, panel_options={"orientation": "horizontal", "displayMode": "basic"})
    d.timeseries("Breaches by rule", "Breach stages fired per interval, by rule.", "short", [
        ("sum by (rule) (increase(slawatch_cycles_breached_total[$__rate_interval]))", "{{rule}}")])
    d.timeseries("Buck-passing", "Cases sent back as not the department's own, cases moved on to another "
                 "department, and ping-pong alerts (repeated returns or transfers).", "short", [
        ("sum(increase(slawatch_case_returns_total[$__rate_interval]))", "returns"),
        ("sum(increase(slawatch_case_transfers_total[$__rate_interval]))", "transfers"),
        (f'sum(increase(slawatch_alerts_total{{rule=~"{BUCK_PASSING_RULES}",kind="fired"}}[$__rate_interval]))',
         "ping-pong alerts"),
    ])
    return d


DEPARTMENTS = this_instance_only(active_rules_only("label_values(slawatch_cycles_opened_total, department)"))


def department():
    variable = {
        "name": "department", "label": "Department", "type": "query", "datasource": DATASOURCE,
        "query": {"query": DEPARTMENTS, "refId": "department"},
        "definition": DEPARTMENTS,
        "refresh": 2, "sort": 1, "current": {}, "hide": 0, "includeAll": False, "multi": False, "options": [],
    }
    d = Dashboard("slawatch-department", "slawatch / Department drill-down",
                  "One department: response times against the 30-minute line, open and overdue cases, returns.",
                  ["slawatch", "sla", "department"], [variable])
    sel = 'department="$department"'
    fr_sel = f"{FIRST_RESPONSE},{sel}"
    d.stat("First response within 30 min (7 days)", "Share of this department's first responses given "
           "within 30 minutes of dispatch.", "percentunit", ratio_within(CYCLES, FIRST_RESPONSE_LIMIT, "7d", fr_sel),
           defaults=percent_thresholds(0.9))
    d.stat("Open cycles", "SLA clocks running now for cases with this department.", "short",
           f"sum(slawatch_open_cycles{{{sel}}})")
    d.stat("Overdue now", "This department's stages fired and not yet resolved or retracted.", "short",
           f"sum(slawatch_overdue_alerts{{{sel}}})")
    d.stat("Returns (7 days)", "Cases this department sent back as not its own.", "short",
           f"sum(increase(slawatch_case_returns_total{{{sel}}}[7d]))")
    d.timeseries("First response time vs the 30-minute line", "Median and 90th percentile time from "
                 "dispatch to first response; the red line is the 30-minute limit.", "s", [
        (quantile(0.5, CYCLES, fr_sel), "p50"), (quantile(0.9, CYCLES, fr_sel), "p90")],
        defaults={"custom": {"thresholdsStyle": {"mode": "line"}}, "thresholds": {"mode": "absolute", "steps": [
            {"color": "green", "value": None}, {"color": "red", "value": 1800}]}})
    d.panel("bargauge", "Response-time distribution (7 days)", "First responses per response-time bucket "
            "(upper bound, seconds); buckets sit on the SLA limits.", "short",
            [(f"sum by (le) (increase({CYCLES}_bucket{{{fr_sel}}}[7d]))", "{{le}}")], width=12, height=8,
            panel_options={"orientation": "horizontal", "displayMode": "basic"})
    d.timeseries("Open and overdue", "Open SLA clocks and overdue stages for this department, by rule.",
                 "short", [(f"sum by (rule) (slawatch_open_cycles{{{sel}}})", "open {{rule}}"),
                           (f"sum by (rule) (slawatch_overdue_alerts{{{sel}}})", "overdue {{rule}}")])
    d.timeseries("Returns and transfers", "Cases this department sent back or moved on, per interval.",
                 "short", [(f"sum(increase(slawatch_case_returns_total{{{sel}}}[$__rate_interval]))", "returns"),
                           (f"sum(increase(slawatch_case_transfers_total{{{sel}}}[$__rate_interval]))",
                            "transfers")])
    return d


def discipline():
    d = Dashboard("slawatch-discipline", "slawatch / Discipline inspection",
                  "Escalations, repeat offenders, buck-passing and retracted alerts.",
                  ["slawatch", "sla", "discipline"])
    d.timeseries("Escalations to discipline inspection", "Alerts notifying the discipline inspection office, "
                 "per interval, by rule and stage.", "short", [
        (f'sum by (rule, stage) (increase(slawatch_alert_notifications_total{{role="{DISCIPLINE_ROLE}"}}'
         "[$__rate_interval]))", "{{rule}} {{stage}}")])
    d.panel("table", "Repeat offenders (7 days)", "Departments with more than one breach in the last 7 days, "
            "most first.", "short",
            [("sort_desc(sum by (department) (increase(slawatch_cycles_breached_total[7d])) > 1)", "")],
            width=12, height=8)
    d.timeseries("Returns and transfers by department", "Cases sent back or moved on, per interval, by the "
                 "department passing them on.", "short", [
        ("sum by (department) (increase(slawatch_case_returns_total[$__rate_interval]))", "returned {{department}}"),
        ("sum by (department) (increase(slawatch_case_transfers_total[$__rate_interval]))",
         "transferred {{department}}")])
    d.timeseries("Retractions", "Alerts withdrawn because a late event showed the stage was met, by rule.",
                 "short", [('sum by (rule) (increase(slawatch_alerts_total{kind="retracted"}[$__rate_interval]))',
                            "{{rule}}")])
    d.stat("Ping-pong alerts (7 days)", "Repeated-return and repeated-transfer alerts fired.", "short",
           f'sum(increase(slawatch_alerts_total{{rule=~"{BUCK_PASSING_RULES}",kind="fired"}}[7d]))')
    d.stat("Retractions (7 days)", "Alerts retracted in the last 7 days.", "short",
           'sum(increase(slawatch_alerts_total{kind="retracted"}[7d]))')
    return d


def engine():
    d = Dashboard("slawatch-engine", "slawatch / Engine health",
                  "Throughput, lag, timer fire delay, dead letters, outbox and RocksDB of the monitor itself.",
                  ["slawatch", "operations"])
    d.timeseries("Throughput", "Case events per second by outcome.", "ops", [
        ("sum by (outcome) (rate(slawatch_events_total[$__rate_interval]))", "{{outcome}}")])
    d.timeseries("Event lag", "Processing time minus event time (p50, p99).", "s", [
        (quantile(0.5, "slawatch_event_lag_seconds"), "p50"), (quantile(0.99, "slawatch_event_lag_seconds"), "p99")])
    d.timeseries("Input lag", "Records waiting at the input (Kafka consumer lag; read-ahead for files).",
                 "short", [("sum by (partition) (slawatch_input_lag_records)", "partition {{partition}}")])
    d.timeseries("Timer fire delay", "How late stages fire after their due time (includes the grace).", "s", [
        (quantile(0.99, "slawatch_timer_fire_delay_seconds"), "p99"),
        ("sum(rate(slawatch_timers_fired_total[$__rate_interval]))", "timers fired/s")])
    d.timeseries("Dead letters", "Rejected records per second by reason class.", "ops", [
        ("sum by (reason) (rate(slawatch_dead_letters_total[$__rate_interval]))", "{{reason}}")])
    d.timeseries("Outbox depth", "Output produced but not yet delivered, by partition.", "short", [
        ("sum by (partition) (slawatch_outbox_depth)", "partition {{partition}}")])
    d.timeseries("Commits", "Records per commit and commit time (p99).", "short", [
        ("sum(rate(slawatch_commit_batch_records_sum[$__rate_interval])) / "
         "sum(rate(slawatch_commit_batch_records_count[$__rate_interval]))", "records per commit"),
        ("sum(rate(slawatch_commits_total[$__rate_interval]))", "commits/s")])
    d.timeseries("Commit duration", "Time to commit a batch and deliver its output (p99).", "s", [
        (quantile(0.99, "slawatch_commit_duration_seconds"), "p99")])
    d.timeseries("State writes", "Keys the commits write per second, by column family (a case's timer is a "
                 "delete and a put each time an event moves its due time).", "ops", [
        ("sum by (family) (rate(slawatch_state_keys_written_total[$__rate_interval]))", "{{family}}")])
    d.timeseries("State write bytes", "Bytes of the commits' RocksDB write batches per second (0 without a "
                 "state directory).", "Bps", [
        ("sum(rate(slawatch_state_bytes_written_total[$__rate_interval]))", "bytes/s")])
    d.stat("RocksDB size", "Approximate on-disk size of the state.", "bytes", "sum(slawatch_rocksdb_live_data_bytes)")
    d.stat("RocksDB write stalls", "1 while RocksDB delays or stops writes.", "bool",
           "max(slawatch_rocksdb_write_stalled)")
    d.panel("stat", "Cached cases and pending timers",
            "Case records in the engine caches, and stage timers waiting to fire (one per case with a pending "
            "stage).", "short",
            [("sum(slawatch_cached_cases)", "cached cases"), ("sum(slawatch_pending_timers)", "pending timers")])
    d.panel("table", "Build", "Running version and rule-set version.", "none",
            [("max by (version, rules_version) (slawatch_build_info)", "")], width=6, height=6)
    d.timeseries("Alertmanager delivery",
                 "Alerts handed to Alertmanager per second, the POSTs that carried them and the POSTs that "
                 "failed (by reason); with no `alertmanager:` section these stay at zero.", "ops", [
                     ("sum(rate(slawatch_alertmanager_alerts_sent_total[$__rate_interval]))", "alerts sent/s"),
                     ("sum(rate(slawatch_alertmanager_posts_total[$__rate_interval]))", "posts/s"),
                     ("sum by (reason) (rate(slawatch_alertmanager_post_failures_total[$__rate_interval]))",
                      "failures/s {{reason}}")])
    d.timeseries("Alertmanager queue and active alerts",
                 "Alerts waiting for the sender thread, alerts dropped (queue full, rejected...) over the "
                 "interval, and the alerts slawatch keeps active in Alertmanager (re-posted within the "
                 "resolve timeout).", "short", [
                     ("sum(slawatch_alertmanager_queue_depth)", "queued"),
                     ("sum by (reason) (increase(slawatch_alertmanager_dropped_total[$__rate_interval]))",
                      "dropped {{reason}}"),
                     ("sum(slawatch_alertmanager_active_alerts)", "active in Alertmanager")])
    by_ruleset = ('label_replace(sum by (ruleset) (increase({metric}[$__rate_interval])), '
                  '"ruleset", "active", "ruleset", "")')
    d.timeseries("Shadow rules: breaches, active against candidate",
                 "Breach stages fired under the active rules and under a candidate run beside them "
                 "(`shadow:` in the config; docs/rule-editing.md). Empty without a shadow.", "short",
                 [(by_ruleset.format(metric="slawatch_cycles_breached_total"), "breaches {{ruleset}}"),
                  (by_ruleset.format(metric='slawatch_alerts_total{kind="retracted"}'), "retractions {{ruleset}}")],
                 all_rulesets=True)
    return d


def main(out_dir):
    for build in (leadership, department, discipline, engine):
        dashboard = build().to_json()
        path = os.path.join(out_dir, dashboard["uid"] + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(dashboard, f, indent=2, sort_keys=False)
            f.write("\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else HERE)
