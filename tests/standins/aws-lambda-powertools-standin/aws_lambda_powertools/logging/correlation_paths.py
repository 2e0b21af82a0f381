"""STAND-IN: where API Gateway events carry their request id."""
API_GATEWAY_REST = "requestContext.requestId"
API_GATEWAY_HTTP = "requestContext.requestId"
