"""Logging: one handler, text or JSON lines, every record tagged with the request id."""

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import Settings
from .metrics import RequestMetrics

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is echoed into logs and headers: accept only a safe token.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [%(request_id)s%(trace)s] %(message)s"
)
_ACCESS_FIELDS = ("method", "path", "status", "duration_ms")
_TRACE_FIELDS = ("trace_id", "span_id")

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
access_logger = logging.getLogger(f"{__package__}.access")
logger = logging.getLogger(__name__)


class _RequestIdFilter(logging.Filter):
    """Tag each record with the request id and, while a span is recording (with
    tracing on), the OpenTelemetry trace and span ids: a log line then leads to
    its trace, and back."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            trace_id = trace.format_trace_id(span.trace_id)
            span_id = trace.format_span_id(span.span_id)
            record.trace_id, record.span_id = trace_id, span_id
            record.trace = f" trace_id={trace_id} span_id={span_id}"
        else:
            record.trace = ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        payload |= {
            k: getattr(record, k)
            for k in (*_TRACE_FIELDS, *_ACCESS_FIELDS)
            if hasattr(record, k)
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(settings: Settings) -> None:
    """Route every logger through one handler; idempotent, so safe per app."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    json_format = settings.log_format == "json"
    handler.setFormatter(
        JsonFormatter() if json_format else logging.Formatter(_TEXT_FORMAT)
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.log_level)
    # SQL echo: SQLAlchemy adds a second, unformatted stdout handler to its engine
    # logger unless it already has one; give it ours and stop the propagation.
    engine_logger = logging.getLogger("sqlalchemy.engine.Engine")
    engine_logger.handlers = [handler]
    engine_logger.propagate = False


class RequestContextMiddleware:
    """Give each request an id (the client's X-Request-ID if safe), echo it in the
    response, tag the request's log records with it, and log one access line."""

    def __init__(self, app: ASGIApp, *, metered: bool = True) -> None:
        self.app = app
        # Count and time every request for /metrics (metrics.py) as well.
        self.metrics = RequestMetrics() if metered else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        status, status_sent = 500, False
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, status_sent
            if message["type"] == "http.response.start":
                status, status_sent = message["status"], True
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            if status_sent:
                # Under way (Starlette's body limit even signals its 413 this
                # way): whatever it is, the layers outside end the response.
                raise
            # Logged here, while the request id is still set: past this
            # middleware the traceback would reach the log without it.
            logger.exception("unhandled error in %s %s", scope["method"], scope["path"])
            await _internal_error(send_with_request_id)
        finally:
            seconds = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.record(scope, status, seconds)
            # Checked first: below INFO the access line is not even built.
            if access_logger.isEnabledFor(logging.INFO):
                _log_access(scope, status, seconds)
            request_id_var.reset(token)


async def _internal_error(send: Send) -> None:
    body = b'{"detail":"internal error"}'
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _log_access(scope: Scope, status: int, seconds: float) -> None:
    duration_ms = round(seconds * 1000, 2)
    fields = {
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "duration_ms": duration_ms,
    }
    access_logger.info(
        "%s %s %d %.2fms",
        fields["method"],
        fields["path"],
        status,
        duration_ms,
        extra=fields,
    )


def _incoming_request_id(scope: Scope) -> str | None:
    wanted = REQUEST_ID_HEADER.lower().encode()
    for name, value in scope["headers"]:
        if name == wanted:
            candidate = value.decode("latin-1")
            return candidate if _SAFE_REQUEST_ID.match(candidate) else None
    return None
