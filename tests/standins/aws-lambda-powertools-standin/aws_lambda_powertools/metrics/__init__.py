"""STAND-IN metrics: CloudWatch embedded-metric-format lines on stdout when flushed."""
import enum
import functools
import json
import os
import sys
import time

__all__ = ["Metrics", "MetricUnit"]


class MetricUnit(enum.Enum):
    Seconds = "Seconds"
    Milliseconds = "Milliseconds"
    Bytes = "Bytes"
    Count = "Count"
    Percent = "Percent"
    NoUnit = "None"


_state = {"cold_start": True}


class Metrics:
    def __init__(self, namespace=None, service=None, **_ignored):
        self.namespace = namespace or os.environ.get("POWERTOOLS_METRICS_NAMESPACE")
        self.service = service or os.environ.get("POWERTOOLS_SERVICE_NAME")
        self._metrics = {}
        self._dimensions = {}

    def add_metric(self, name, unit, value, resolution=60):
        unit = unit.value if isinstance(unit, MetricUnit) else str(unit)
        entry = self._metrics.setdefault(name, {"Unit": unit, "Value": []})
        entry["Value"].append(value)

    def add_dimension(self, name, value):
        self._dimensions[name] = str(value)

    def add_metadata(self, key, value):
        pass

    def flush_metrics(self, raise_on_empty_metrics=False):
        if not self._metrics:
            if raise_on_empty_metrics:
                raise ValueError("no metrics to flush")
            return
        dims = dict(self._dimensions)
        if self.service:
            dims.setdefault("service", self.service)
        doc = {"_aws": {"Timestamp": round(time.time() * 1000), "CloudWatchMetrics": [{
            "Namespace": self.namespace, "Dimensions": [sorted(dims)],
            "Metrics": [{"Name": n, "Unit": m["Unit"]} for n, m in sorted(self._metrics.items())]}]}}
        doc.update(dims)
        doc.update({n: (m["Value"][0] if len(m["Value"]) == 1 else m["Value"])
                    for n, m in self._metrics.items()})
        print(json.dumps(doc), file=sys.stdout, flush=True)
        self._metrics.clear()

    def log_metrics(self, lambda_handler=None, capture_cold_start_metric=False,
                    raise_on_empty_metrics=False, **_ignored):
        if lambda_handler is None:
            return functools.partial(self.log_metrics,
                                     capture_cold_start_metric=capture_cold_start_metric,
                                     raise_on_empty_metrics=raise_on_empty_metrics)

        @functools.wraps(lambda_handler)
        def wrapper(event, context, *args, **kwargs):
            if capture_cold_start_metric and _state["cold_start"]:
                _state["cold_start"] = False
                cold = Metrics(namespace=self.namespace, service=self.service)
                cold.add_dimension("function_name", getattr(context, "function_name", "unknown"))
                cold.add_metric("ColdStart", MetricUnit.Count, 1)
                cold.flush_metrics()
            try:
                return lambda_handler(event, context, *args, **kwargs)
            finally:
                self.flush_metrics(raise_on_empty_metrics)

        return wrapper
