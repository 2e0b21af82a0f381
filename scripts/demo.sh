#!/usr/bin/env bash
# demo.sh - from a fresh Debian machine to bld's main job: install the
# packages, build bld, generate a FastAPI service for AWS Lambda in a new
# workspace, and build its deployable Lambda bundle with `bld run my-api:bundle`.
#
#   scripts/demo.sh                  workspace in a new temporary folder
#   BLD_DEMO_DIR=/tmp/x scripts/demo.sh
#   BLD_SKIP_DEPS=1 scripts/demo.sh  skip apt-get (packages already there)
#   BLD_DEMO_PYPI=1 scripts/demo.sh  take Python packages from PyPI (default: a local
#                                    wheelhouse, so no PyPI access is needed)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# 1. Packages and build.
if [ "${BLD_SKIP_DEPS:-0}" != 1 ]; then
	bash scripts/install-deps.sh
fi
if [ ! -f build-demo/build.ninja ]; then
	meson setup build-demo
fi
ninja -C build-demo
export PATH="$root/build-demo/client:$root/build-demo/daemon:$PATH"
export BLDD="$root/build-demo/daemon/bldd"

# 2. Python packages without PyPI: a wheelhouse of Debian's FastAPI, Starlette,
#    Pydantic and Uvicorn, plus stand-ins for aws-lambda-powertools and mangum
#    (tests/standins).  The generated workspace itself is real: without these two
#    variables its bundle target installs the real packages from PyPI.
demo=${BLD_DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/bld-demo.XXXXXX")}
mkdir -p "$demo"
if [ "${BLD_DEMO_PYPI:-0}" != 1 ]; then
	wheels="$demo.wheelhouse"
	/usr/bin/python3 scripts/wheelhouse.py "$wheels" >/dev/null
	export PIP_FIND_LINKS="$wheels" PIP_NO_INDEX=1 BLD_NO_UV=1
	echo "wheelhouse: $wheels"
fi

# 3. The demo workspace: a git repository of its own, with a generated FastAPI service.
cd "$demo"
if [ ! -d .git ]; then
	git init -q
fi
if [ ! -f packages/my_api/project.json ]; then
	bld generate py#fast-api --name my-api
	git add -A
	git -c user.name=bld-demo -c user.email=demo@bld.invalid commit -q -m "bld demo workspace"
fi
echo "demo workspace: $demo"

# 4. The main job: the Lambda bundle (sources + dependencies for x86_64 / Python 3.12).
bld run my-api:bundle
echo
echo "the bundle answers an API Gateway event:"
PYTHONPATH=dist/packages/my_api/bundle /usr/bin/python3 - <<'PY' | grep -v '^{"'
import json
import my_api.main as app

class Context:
    function_name = "my-api-demo"; memory_limit_in_mb = 128; aws_request_id = "demo"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:my-api-demo"

event = {"httpMethod": "GET", "path": "/items/1", "headers": {}, "body": None,
         "queryStringParameters": None, "isBase64Encoded": False,
         "requestContext": {"requestId": "demo-request"}}
response = app.handler(event, Context())
print("GET /items/1 ->", response["statusCode"], response["body"])
PY
