"""STAND-IN: the Lambda context type, for annotations."""


class LambdaContext:
    function_name = "local"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:local"
    aws_request_id = "local"
