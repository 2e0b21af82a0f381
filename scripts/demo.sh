#!/usr/bin/env bash
# demo.sh - from a fresh Debian machine to bld's main job: install the
# packages, build bld, generate a FastAPI service for AWS Lambda in a new
# workspace, and build its deployable Lambda bundle with `bld run my-api:bundle`.
#
#   scripts/demo.sh                  workspace in a new temporary folder
#   BLD_DEMO_DIR=/tmp/x scripts/demo.sh
#   BLD_SKIP_DEPS=1 scripts/demo.sh  skip apt-get and the uv install (already there)
#
# The workspace is a uv workspace: generation runs `uv lock`, and the bundle installs
# FastAPI, Pydantic, AWS Lambda Powertools and Mangum from PyPI through uv (its cache:
# $UV_CACHE_DIR, default ~/.cache/uv).
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

# 2. uv (scripts/install-deps.sh installs it from PyPI).
command -v uv >/dev/null 2>&1 || {
	echo "demo.sh: uv is not installed: run scripts/install-deps.sh (or pipx install uv)" >&2
	exit 1
}
demo=${BLD_DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/bld-demo.XXXXXX")}
mkdir -p "$demo"

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
echo "the bundle (Lambda's platform: CPython 3.12, manylinux x86_64):"
ls dist/packages/my_api/bundle | sed -n '/^my_api$/p;/^fastapi$/p;/^pydantic_core$/p;/^mangum$/p;/^aws_lambda_powertools$/p'
ls dist/packages/my_api/bundle/pydantic_core/*.so
