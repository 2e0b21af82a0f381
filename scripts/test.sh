#!/usr/bin/env bash
# test.sh - install the packages, build bld with warnings as errors, run every
# test suite; then build again with AddressSanitizer + UBSan and run the unit
# and end-to-end suites there too.  The last line says `N passed, N failed`
# (meson tests of both passes) and the exit status is non-zero on any failure.
#
#   scripts/test.sh                      everything, as CI runs it
#   BLD_SKIP_DEPS=1 scripts/test.sh      skip apt-get (packages already there)
#   BLD_NO_ASAN=1 scripts/test.sh        skip the sanitizer pass (local quick check)
#   BLD_ASAN_SKIP='^test_x$' scripts/test.sh   leave tests out of the sanitizer pass
#   BLD_NO_FUZZ=1 scripts/test.sh        skip the fuzzing (scripts/fuzz.sh, docs/fuzzing.md)
#
# Build folders: build-test, build-test-asan, build-fuzz (reused when present).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# The sanitizer pass runs every unit, e2e and e2e-daemon test (the whole e2e suite again
# through each workspace's resident daemon) but the pipeline test, the real
# @aws/nx-plugin workspace test and the CDK constructs test: their time goes to uv, npm,
# Nx, tsc, CDK, cfn-lint, the Lambda emulator and Python, and the bld paths they drive
# (run, cache, continuous tasks, generate, the native @nxlv executors) are covered there
# by the other files.  Should another test become too slow for it, name it in this regex
# (meson test names):
asan_skip=${BLD_ASAN_SKIP:-'^test_(pipeline|aws_plugin|cdk_constructs)$'}

# Caches kept between the tests and steps of a run (and between runs on one machine):
# uv's cache, npm's packages for synth and the @aws/nx-plugin workspace of
# test_aws_plugin (npm's own cache beside them), and Go's module and build caches with
# the Lambda Runtime Interface Emulator built from them.  CI points BLD_CACHE_ROOT at a
# folder it reuses between the steps of a run.
cache_root=${BLD_CACHE_ROOT:-${TMPDIR:-/tmp}/bld-ci-cache}
mkdir -p "$cache_root"
export UV_CACHE_DIR=${UV_CACHE_DIR:-$cache_root/uv}
export BLD_E2E_NPM_DIR=${BLD_E2E_NPM_DIR:-$cache_root/npm}
export BLD_E2E_GO_DIR=${BLD_E2E_GO_DIR:-$cache_root/go}

status=0
note() { printf '\n=== %s\n' "$*"; }
finish() {
	/usr/bin/python3 - "$root/build-test" "$root/build-test-asan" <<'PY'
import json, os, sys
passed = failed = 0
for d in sys.argv[1:]:
    log = os.path.join(d, 'meson-logs', 'testlog.json')
    if not os.path.exists(log) or os.path.getmtime(log) < float(os.environ.get('BLD_TEST_START', '0')):
        continue
    for line in open(log):
        line = line.strip()
        if not line:
            continue
        res = json.loads(line).get('result')
        if res in ('OK', 'EXPECTEDFAIL'):
            passed += 1
        elif res != 'SKIP':
            failed += 1
failed += int(os.environ.get('BLD_EXTRA_FAILED', '0'))
if os.environ.get('BLD_STATUS', '0') != '0' and failed == 0:
    failed = 1   # something failed that left no test result
print(f'{passed} passed, {failed} failed')
PY
}
export BLD_TEST_START=$(date +%s)
export BLD_EXTRA_FAILED=0

if [ "${BLD_SKIP_DEPS:-0}" != 1 ]; then
	note "installing packages"
	bash scripts/install-deps.sh || { echo "test.sh: package installation failed" >&2; BLD_EXTRA_FAILED=1 finish; exit 1; }
fi

build() {   # build DIR meson-options...
	local dir=$1; shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@"
	fi && ninja -C "$dir"
}

note "build (warnings are errors)"
if ! build build-test -Dwerror=true; then
	echo "test.sh: build failed" >&2
	BLD_EXTRA_FAILED=1 finish
	exit 1
fi

note "all test suites"
meson test -C build-test --print-errorlogs || status=1

if [ "${BLD_NO_ASAN:-0}" != 1 ]; then
	# No -Dwerror here: the warnings gate is the build above; GCC's analysis of
	# sanitizer-instrumented code gives false positives (e.g. -Wformat-truncation
	# on vsnprintf(NULL, 0, ...)).
	note "sanitizer build (address, undefined)"
	if ! build build-test-asan -Dwerror=false -Db_sanitize=address,undefined -Db_lundef=false; then
		echo "test.sh: sanitizer build failed" >&2
		BLD_EXTRA_FAILED=1 finish
		exit 1
	fi
	mapfile -t names < <(meson test -C build-test-asan --list 2>/dev/null |
		sed -n 's/^[^:]*:\(unit\|e2e\|e2e-daemon\) \/ //p' | grep -Ev "$asan_skip")
	note "unit, e2e and e2e-daemon suites under the sanitizers (${#names[@]} tests)"
	if [ ${#names[@]} -eq 0 ]; then
		echo "test.sh: no tests found for the sanitizer pass" >&2
		status=1
		BLD_EXTRA_FAILED=1
	else
		# test_daemon's differential walk: 200 steps in the pass above, 50 here (each
		# step is two instrumented engine runs)
		BLD_DIFF_STEPS=${BLD_DIFF_STEPS:-50} \
		ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:halt_on_error=1:detect_leaks=1} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1} \
			meson test -C build-test-asan --print-errorlogs --timeout-multiplier 3 "${names[@]}" || status=1
	fi
fi

if [ "${BLD_NO_FUZZ:-0}" != 1 ]; then
	# Every libFuzzer target (clang, ASan + UBSan): its seed corpus, then 25 s of fuzzing.
	note "fuzzing (tests/fuzz, ${FUZZ_SECONDS:-25} s a target)"
	if ! FUZZ_SECONDS=${FUZZ_SECONDS:-25} bash scripts/fuzz.sh; then
		status=1
		BLD_EXTRA_FAILED=$((BLD_EXTRA_FAILED + 1))
	fi
fi

note "summary"
BLD_STATUS=$status finish
exit $status
