"""STAND-IN tracer: the decorators and annotation calls, recording nothing."""
import functools

__all__ = ["Tracer"]


class Tracer:
    def __init__(self, service=None, disabled=None, **_ignored):
        self.service = service
        self.annotations = {}

    def put_annotation(self, key, value):
        self.annotations[key] = value

    def put_metadata(self, key, value, namespace=None):
        pass

    def capture_lambda_handler(self, lambda_handler=None, capture_response=True, capture_error=True):
        if lambda_handler is None:
            return functools.partial(self.capture_lambda_handler, capture_response=capture_response,
                                     capture_error=capture_error)
        return lambda_handler

    def capture_method(self, method=None, capture_response=True, capture_error=True):
        if method is None:
            return functools.partial(self.capture_method, capture_response=capture_response,
                                     capture_error=capture_error)
        return method
