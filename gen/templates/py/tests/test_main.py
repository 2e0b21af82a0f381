"""Tests of {{name}}'s routes, through FastAPI's test client and through the Lambda handler
(real Mangum, with events shaped as API Gateway sends them)."""

import json

from fastapi.testclient import TestClient

from {{module}}.main import app, handler

client = TestClient(app)


class FakeContext:
    function_name = "{{name}}-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:{{name}}-test"
    aws_request_id = "test-request"


def rest_event(method: str, path: str, resource: str) -> dict:
    """A REST API (payload format 1.0) proxy event."""
    return {
        "version": "1.0",
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"accept": "application/json"},
        "multiValueHeaders": {"accept": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "req-1",
            "identity": {"sourceIp": "192.0.2.1"},
        },
    }


def test_read_root():
    response = client.get("/")
    assert response.status_code == 200
    assert "x-correlation-id" in response.headers


def test_get_item_not_found():
    assert client.get("/items/999").status_code == 404


def test_cors_preflight_is_answered():
    response = client.options(
        "/items",
        headers={"origin": "https://example.com", "access-control-request-method": "GET"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://example.com")


def test_operation_ids_are_function_names():
    ops = {op["operationId"] for path in app.openapi()["paths"].values() for op in path.values()}
    assert {"read_root", "list_items", "get_item", "create_item"} <= ops


def test_lambda_handler_answers_a_rest_api_event():
    response = handler(rest_event("GET", "/items/1", "/items/{item_id}"), FakeContext())
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["item_id"] == 1
    assert response["headers"]["x-correlation-id"] == "req-1"
{{#streaming}}


def test_stream_items_sends_one_json_line_per_item():
    with client.stream("GET", "/items-stream") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/jsonl")
        lines = [line for line in response.iter_lines() if line]
    assert [json.loads(line)["item_id"] for line in lines] == [1]
{{/streaming}}
