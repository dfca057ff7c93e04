"""deploy/prometheus/priyom-alerts.yml alerts on, and deploy/grafana/priyom-dashboard.json shows, metrics the
services really expose.

A renamed gauge would leave an alert that never fires (``absent()`` aside), silently: so every ``priyom_``
metric a rule names is checked against the registry of the service that exports it (tickets: it has the
kit's HTTP and bus metrics like every service, and its own).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from priyom_kit import build_app
from priyom_tickets.app import build
from priyom_tickets.dead_letters import GAUGE_NAME

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "priyom-alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "priyom-dashboard.json"
#: The series a counter or histogram is queried by, beyond its name (``priyom_dead_lettered_total``).
SUFFIXES = re.compile(r"_(total|bucket|count|sum)$")


def exported_metrics() -> set[str]:
    parts = build()
    build_app(parts)  # adds the HTTP request metrics every service has
    return {metric.name for metric in parts.registry.collect()}


def metrics_named(expressions: list[str]) -> set[str]:
    return {SUFFIXES.sub("", name) for expr in expressions for name in re.findall(r"\bpriyom_\w+", expr)}


def test_every_metric_an_alert_names_is_exported() -> None:
    rules = [rule for group in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"] for rule in group["rules"]]
    named = metrics_named([rule["expr"] for rule in rules])
    assert GAUGE_NAME in named
    assert named <= exported_metrics(), named - exported_metrics()
    assert all(rule["annotations"]["summary"] and rule["labels"]["severity"] for rule in rules)


def test_the_alerts_are_documented() -> None:
    guide = (ROOT / "docs" / "dead-letters.md").read_text(encoding="utf-8")
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    for rule in groups[0]["rules"]:
        assert rule["alert"] in guide
    observability = (ROOT / "docs" / "observability.md").read_text(encoding="utf-8")
    for group in groups[1:]:
        for rule in group["rules"]:
            assert rule["alert"] in observability, rule["alert"]


def test_every_metric_the_dashboard_shows_is_exported() -> None:
    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    named = metrics_named([target["expr"] for panel in panels for target in panel.get("targets", [])])
    assert {"priyom_events_published", "priyom_tickets_overdue", "priyom_queue_messages",
            "priyom_http_requests"} <= named
    assert named <= exported_metrics(), named - exported_metrics()
