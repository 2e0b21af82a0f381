"""STAND-IN structured logger: one JSON object per line on stdout."""
import functools
import json
import os
import sys
import time
import traceback

from . import correlation_paths

__all__ = ["Logger", "correlation_paths"]

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


def _lookup(event, dotted):
    for part in (dotted or "").split("."):
        if not isinstance(event, dict):
            return None
        event = event.get(part)
    return event


class Logger:
    def __init__(self, service=None, level=None, stream=None, **_ignored):
        self.service = service or os.environ.get("POWERTOOLS_SERVICE_NAME", "service_undefined")
        name = (level or os.environ.get("POWERTOOLS_LOG_LEVEL") or os.environ.get("LOG_LEVEL") or "INFO")
        self.level = _LEVELS.get(str(name).upper(), 20)
        self.stream = stream
        self._keys = {}

    def append_keys(self, **keys):
        self._keys.update(keys)

    def remove_keys(self, keys):
        for k in keys:
            self._keys.pop(k, None)

    def set_correlation_id(self, value):
        self._keys["correlation_id"] = value

    def get_correlation_id(self):
        return self._keys.get("correlation_id")

    def _emit(self, level, msg, extra=None, exc=False):
        if _LEVELS[level] < self.level:
            return
        record = {"level": level, "message": str(msg), "timestamp": round(time.time() * 1000),
                  "service": self.service}
        record.update(self._keys)
        record.update(extra or {})
        if exc:
            etype, value, tb = sys.exc_info()
            if etype is not None:
                record["exception_name"] = etype.__name__
                record["exception"] = "".join(traceback.format_exception(etype, value, tb))
        print(json.dumps(record, default=str), file=self.stream or sys.stdout, flush=True)

    def debug(self, msg, *args, extra=None, **kw):
        self._emit("DEBUG", msg, extra)

    def info(self, msg, *args, extra=None, **kw):
        self._emit("INFO", msg, extra)

    def warning(self, msg, *args, extra=None, **kw):
        self._emit("WARNING", msg, extra)

    def error(self, msg, *args, extra=None, **kw):
        self._emit("ERROR", msg, extra)

    def exception(self, msg, *args, extra=None, **kw):
        self._emit("ERROR", msg, extra, exc=True)

    def inject_lambda_context(self, lambda_handler=None, log_event=False, correlation_id_path=None,
                              clear_state=False):
        if lambda_handler is None:
            return functools.partial(self.inject_lambda_context, log_event=log_event,
                                     correlation_id_path=correlation_id_path,
                                     clear_state=clear_state)

        @functools.wraps(lambda_handler)
        def wrapper(event, context, *args, **kwargs):
            if clear_state:
                self._keys.clear()
            self.append_keys(function_name=getattr(context, "function_name", None),
                             function_request_id=getattr(context, "aws_request_id", None))
            if correlation_id_path:
                self.set_correlation_id(_lookup(event, correlation_id_path))
            if log_event:
                self.info("event", extra={"event": event})
            return lambda_handler(event, context, *args, **kwargs)

        return wrapper
