"""Prometheus metrics: HTTP requests here, the database layer's in db/metrics.py.

Served at GET /metrics (main.py). With several worker processes (`serve
--workers N`), every worker writes its values to files in
PROMETHEUS_MULTIPROC_DIR, and a scrape of any one worker adds them all up
(prometheus-client's multiprocess mode; __main__.py sets the directory up).

The requests are counted by logs.RequestContextMiddleware, which times every
request for its access line already: a second middleware (such as
prometheus-fastapi-instrumentator) would time each request again and find its
route a second time, by matching the path against every route.
"""

import os

from fastapi.routing import iter_route_contexts
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import Scope

# Without it every counter and histogram has a second series, *_created, which
# dashboards do not use and Prometheus stores all the same.
disable_created_metrics()  # type: ignore[no-untyped-call]

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
# Requests that matched no route are counted under this label, not their path:
# a scanner trying a million paths must not create a million series.
UNMATCHED_ROUTE = "unmatched"
# Likewise for methods: any other a client invents counts as this one.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "_OTHER"
# Seconds, from a request served at once to one that waited out pool_timeout.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds",
    "Seconds from a request's arrival to the end of its response",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)


class RequestMetrics:
    """Counts and times an app's requests by route template: the route's whole
    path (`/api/v1/users/{user_id}`), whatever router added which part of it."""

    def __init__(self) -> None:
        self._templates: dict[int, str] = {}  # by id() of the route object
        # The labelled series, kept: finding them by their labels costs more
        # than counting (prometheus-client checks and locks on every lookup).
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def record(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in METHODS else OTHER_METHOD
        key = (method, self._template(scope), status)
        series = self._series.get(key)
        if series is None:
            labels = (key[0], key[1], str(status))
            series = REQUESTS.labels(*labels), REQUEST_SECONDS.labels(*labels)
            self._series[key] = series
        count, duration = series
        count.inc()
        duration.observe(seconds)

    def _template(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            return UNMATCHED_ROUTE
        template = self._templates.get(id(route))
        if template is None:
            template = self._learn(scope["app"].routes).get(id(route), UNMATCHED_ROUTE)
        return template

    def _learn(self, routes: list[BaseRoute]) -> dict[int, str]:
        # FastAPI (0.165) applies include_router's prefix while it routes: the
        # route in the scope knows only its own part of the path. The app's
        # route contexts know the whole. Learnt at the first request to a route
        # nobody asked for yet, so routes added after create_app count as well.
        self._templates = {
            id(context.original_route): context.path_format
            for context in iter_route_contexts(routes)
            if context.path_format
        }
        return self._templates


def is_multiprocess() -> bool:
    return MULTIPROCESS_DIRECTORY in os.environ


def exposition() -> bytes:
    """Every metric in Prometheus' text format: of all workers, if there are several."""
    if not is_multiprocess():
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    # prometheus-client (0.26) leaves some of its functions unannotated.
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


async def serve_metrics(request: Request) -> Response:
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


def worker_stopped() -> None:
    """Drop this worker's gauges from the sums: its pools are closed.

    A worker killed without a shutdown leaves its gauges until `serve` starts
    again with a fresh directory.
    """
    if is_multiprocess():
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
