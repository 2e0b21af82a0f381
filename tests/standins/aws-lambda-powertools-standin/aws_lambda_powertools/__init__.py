"""STAND-IN for aws-lambda-powertools, written for bld's offline tests (see tests/standins/README.md).

Only the surface bld's FastAPI template uses: Logger, Metrics, Tracer.
"""
from .logging import Logger
from .metrics import Metrics
from .tracing import Tracer

__version__ = "3.0.0+standin"
__all__ = ["Logger", "Metrics", "Tracer"]
