#!/usr/bin/env bash
# fuzz.sh - build bld's libFuzzer targets (tests/fuzz) with clang, AddressSanitizer and
# UBSan, then run each one for a fixed time starting from its seed corpus. Any crash, leak,
# undefined behaviour or timeout fails the run and leaves the input in the artifacts folder.
# See docs/fuzzing.md.
#
#   scripts/fuzz.sh                        every target, FUZZ_SECONDS (default 30) each
#   scripts/fuzz.sh json config            only these targets
#   FUZZ_SECONDS=3600 scripts/fuzz.sh json an hour of one target
#   FUZZ_JOBS=2 ...                        libFuzzer -fork=N processes per target (default 1)
#
# Build folder: build-fuzz (reused). Inputs found that add coverage go to
# build-fuzz/corpus/<target> (kept between runs, never committed); crashes go to
# build-fuzz/artifacts/<target>/.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-1}
all=(json config pyproject pattern proto metadata env)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

dir=build-fuzz
if [ ! -f "$dir/build.ninja" ]; then
	CC=clang meson setup "$dir" -Dfuzz=true -Dtests=disabled -Db_sanitize=address,undefined \
		-Db_lundef=false -Dwerror=true >/dev/null || { echo "fuzz.sh: meson setup failed" >&2; exit 1; }
fi
ninja -C "$dir" $(printf 'tests/fuzz/fuzz_%s ' "${targets[@]}") || { echo "fuzz.sh: build failed" >&2; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
status=0
for t in "${targets[@]}"; do
	seeds=$root/tests/fuzz/corpus/$t
	work=$root/$dir/corpus/$t
	art=$root/$dir/artifacts/$t
	mkdir -p "$work" "$art"
	bin=$root/$dir/tests/fuzz/fuzz_$t
	printf '\n=== fuzz_%s: the seed corpus, then %ss\n' "$t" "$seconds"
	# Every seed (crash inputs found earlier included) must pass first.
	if ! "$bin" -runs=0 "$seeds" >"$art/seeds.log" 2>&1; then
		tail -40 "$art/seeds.log"
		echo "fuzz.sh: fuzz_$t fails on its seed corpus" >&2
		status=1
		continue
	fi
	par=()
	[ "$jobs" -gt 1 ] && par=(-fork="$jobs")
	if ! (cd "$art" && "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 "${par[@]}" -print_final_stats=1 -artifact_prefix="$art/" \
		"$work" "$seeds") >"$art/run.log" 2>&1; then
		tail -60 "$art/run.log"
		echo "fuzz.sh: fuzz_$t found a failure: $(ls "$art" | grep -v '\.log$' | tr '\n' ' ')" >&2
		status=1
		continue
	fi
	grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$art/run.log" | tr '\n' ' '
	echo
done
exit $status
