#!/usr/bin/env bash
# demo.sh - from a fresh Debian machine to bld's main job: install the
# packages, build bld, make a demo workspace, and run its bundle task.
#
#   scripts/demo.sh                  workspace in a new temporary folder
#   BLD_DEMO_DIR=/tmp/x scripts/demo.sh
#   BLD_SKIP_DEPS=1 scripts/demo.sh  skip apt-get (packages already there)
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

# 2. The demo workspace: a git repository of its own.
demo=${BLD_DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/bld-demo.XXXXXX")}
mkdir -p "$demo"
cp -R examples/demo/. "$demo/"
cd "$demo"
if [ ! -d .git ]; then
	git init -q
	git add -A
	git -c user.name=bld-demo -c user.email=demo@bld.invalid commit -q -m "bld demo workspace"
fi
echo "demo workspace: $demo"

# 3. The main job.
bld run hello:bundle
echo
echo "the bundle runs:"
dist/apps/hello/bundle/run.sh World
