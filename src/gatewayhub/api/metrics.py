"""Prometheus metrics of one API instance, in a registry of its own.

Provider attempts are counted as the core commits them (`Hub.observe_attempts`), whatever
started them: an API request, the SDK in the same process, the reconciler or a provider
webhook. Each attempt counts once as started and once by its first answer; an unknown outcome
counts as an error, and its later resolution under `unknown_outcomes_resolved`. Circuit states
and approval rates are read from the hub's health at scrape time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from gatewayhub.health import BreakerState
from gatewayhub.hub import Hub
from gatewayhub.models import AttemptStatus
from gatewayhub.payment import AttemptChange

CONTENT_TYPE = CONTENT_TYPE_LATEST
_CIRCUIT_VALUE = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}
_ERRORS = (AttemptStatus.NOT_SENT, AttemptStatus.UNKNOWN)


class _HealthCollector(Collector):
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[GaugeMetricFamily]:
        circuit = GaugeMetricFamily(
            "gatewayhub_circuit_state",
            "Circuit breaker per provider account: 0 closed, 1 half-open, 2 open",
            labels=["provider"],
        )
        approval = GaugeMetricFamily(
            "gatewayhub_provider_approval_rate",
            "Approved share of the account's recent authorizations",
            labels=["provider"],
        )
        for account in self.hub.accounts:
            snap = self.hub.health.snapshot(account)
            circuit.add_metric([account], _CIRCUIT_VALUE[BreakerState(snap["circuit"])])
            if snap["approval_rate"] is not None:
                approval.add_metric([account], snap["approval_rate"])
        yield circuit
        yield approval
        yield GaugeMetricFamily(
            "gatewayhub_reconciler_unresolved",
            "Payments whose outcome stayed unknown past reconcile_alert_after_seconds "
            "(as of the reconciler's last pass): each needs a person",
            value=self.hub.reconciler_unresolved,
        )


class Metrics:
    """The counters and histograms the API records."""

    def __init__(self, hub: Hub) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.latency = Histogram(
            "gatewayhub_http_request_duration_seconds",
            "Time to answer an API request",
            ["method", "route", "status"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        labels = ["provider", "operation"]
        self.attempts = Counter(
            "gatewayhub_provider_attempts", "Provider calls started", labels, registry=r
        )
        self.approvals = Counter(
            "gatewayhub_provider_approvals", "Provider calls that succeeded", labels, registry=r
        )
        self.declines = Counter(
            "gatewayhub_provider_declines", "Provider calls declined", labels, registry=r
        )
        self.errors = Counter(
            "gatewayhub_provider_errors",
            "Provider calls that failed (not sent, or outcome unknown)",
            labels,
            registry=r,
        )
        self.resolved = Counter(
            "gatewayhub_unknown_outcomes_resolved",
            "Provider calls whose unknown outcome was settled later, by what it turned out to be",
            [*labels, "outcome"],
            registry=r,
        )
        self.webhooks = Counter(
            "gatewayhub_webhooks",
            "Provider webhooks received, by outcome (accepted, duplicate, rejected)",
            ["provider", "account", "outcome"],
            registry=r,
        )
        self.webhook_rejections = Counter(
            "gatewayhub_webhook_rejections",
            "Provider webhooks refused, by reason",
            ["provider", "reason"],
            registry=r,
        )
        r.register(_HealthCollector(hub))
        hub.observe_attempts(self.count_attempts)

    def count_attempts(self, changes: Sequence[AttemptChange]) -> None:
        """Count committed attempt changes (see the module's docstring)."""
        for change in changes:
            labels = (change.provider, change.operation.value)
            if change.before is None:
                self.attempts.labels(*labels).inc()
            elif change.before is AttemptStatus.UNKNOWN:
                self.resolved.labels(*labels, change.after.value).inc()
            elif change.after is AttemptStatus.SUCCEEDED:
                self.approvals.labels(*labels).inc()
            elif change.after is AttemptStatus.DECLINED:
                self.declines.labels(*labels).inc()
            elif change.after in _ERRORS:
                self.errors.labels(*labels).inc()

    def render(self) -> bytes:
        """The text exposition."""
        return generate_latest(self.registry)
