"""Tests of {{name}}'s routes, through FastAPI's test client and through the Lambda handler."""
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402

from {{module}}.main import app, handler  # noqa: E402

client = TestClient(app)


class FakeContext:
    function_name = "{{name}}-test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:{{name}}-test"
    aws_request_id = "test-request"


def test_read_root():
    response = client.get("/")
    assert response.status_code == 200
    assert "x-correlation-id" in response.headers


def test_get_item_not_found():
    assert client.get("/items/999").status_code == 404


def test_operation_ids_are_function_names():
    ops = {op["operationId"] for path in app.openapi()["paths"].values() for op in path.values()}
    assert {"read_root", "list_items", "get_item", "create_item"} <= ops


def test_lambda_handler_answers_an_api_gateway_event():
    event = {"httpMethod": "GET", "path": "/items/1", "headers": {"accept": "application/json"},
             "queryStringParameters": None, "body": None, "isBase64Encoded": False,
             "requestContext": {"requestId": "req-1", "stage": "prod"}}
    response = handler(event, FakeContext())
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["item_id"] == 1
