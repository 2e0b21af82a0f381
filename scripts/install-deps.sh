#!/usr/bin/env bash
# install-deps.sh - install every Debian package that building bld, its tests
# (unit, end-to-end, sanitizer pass, fuzzing, benchmark smoke) and the demo need.
# Debian 12 (bookworm), as root or through sudo.  Safe to run again.
#
# Node.js: the machine image may already carry node and npm from outside
# Debian (e.g. NodeSource).  Debian's own nodejs/npm are installed only when
# node or npm is missing, so an existing Node is never replaced.
set -euo pipefail

sudo=
if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
export DEBIAN_FRONTEND=noninteractive

pkgs=(
	# toolchain and build
	gcc libc6-dev meson ninja-build pkg-config git ca-certificates
	# libraries bld links (through pkg-config)
	libuv1-dev libsqlite3-dev libcjson-dev libgit2-dev libxxhash-dev
	libcurl4-openssl-dev libcmocka-dev libzstd-dev libssl-dev libyaml-dev
	# remote cache tests: nginx with WebDAV (a server the test starts on loopback)
	nginx libnginx-mod-http-dav-ext
	# end-to-end tests (Debian's /usr/bin/python3 runs pytest); uv is installed from
	# PyPI below, and the generated FastAPI services take their packages from PyPI
	python3 python3-pytest python3-pip python3-venv
	# fuzzing (tests/fuzz, docs/fuzzing.md): clang with libFuzzer and the sanitizer runtimes
	clang libclang-rt-14-dev
	# benchmarks: timing and peak memory
	hyperfine time procps
	# the graph page test (tests/e2e/test_graph_page.py): headless Chromium
	chromium
)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	pkgs+=(nodejs npm)
fi

# Go builds the AWS Lambda Runtime Interface Emulator for the pipeline tests (its module
# needs Go >= 1.21 to fetch the toolchain it names); the machine image's /usr/local/go
# is used when present.
if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then
	pkgs+=(golang-go)
fi

# Retry: a mirror may be briefly unreachable.
ok=0
for try in 1 2 3; do
	if $sudo apt-get update -q && $sudo apt-get install -y -q --no-install-recommends "${pkgs[@]}"; then
		ok=1
		break
	fi
	echo "install-deps: apt-get failed (try $try of 3), retrying in 10 s" >&2
	sleep 10
done
if [ $ok != 1 ]; then
	echo "install-deps: could not install: ${pkgs[*]}" >&2
	exit 1
fi

# uv, pinned, from PyPI into its own virtual environment, where it is missing: the
# generated workspaces are uv workspaces and every Python task runs through uv.
UV_VERSION=0.13.9
if ! command -v uv >/dev/null 2>&1 || [ "$(uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
	$sudo /usr/bin/python3 -m venv /opt/bld-uv
	$sudo /opt/bld-uv/bin/pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" ||
		{ echo "install-deps: could not install uv $UV_VERSION from PyPI" >&2; exit 1; }
	$sudo ln -sf /opt/bld-uv/bin/uv /opt/bld-uv/bin/uvx /usr/local/bin/
fi
uv --version
