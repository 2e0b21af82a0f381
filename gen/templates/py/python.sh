#!/bin/sh
# python.sh - run Python for {{name}} with its dependencies importable.
#
#     sh {{root}}/scripts/python.sh [--require MODULE]... ARGS...     (from the workspace root)
#
# With uv installed: `uv run --project {{root}} python ARGS` (uv keeps the project's
# virtualenv in sync with pyproject.toml and uv.lock).
# Without uv: the first interpreter among $PYTHON, python3 and /usr/bin/python3 that has
# pip and every --require'd module, with the project's runtime dependencies installed
# by pip into {{root}}/.pydeps (reinstalled when pyproject.toml changes; pip honours
# PIP_INDEX_URL, PIP_FIND_LINKS and PIP_NO_INDEX, so it works offline from a wheelhouse).
set -eu
root={{root}}
require=""
while [ "${1:-}" = "--require" ]; do
	require="$require $2"
	shift 2
done

if command -v uv >/dev/null 2>&1 && [ -z "${BLD_NO_UV:-}" ]; then
	exec uv run --project "$root" python "$@"
fi

probe="import pip"
for m in $require; do probe="$probe, $m"; done
py=""
for candidate in ${PYTHON:-} python3 /usr/bin/python3; do
	if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "$probe" 2>/dev/null; then
		py=$candidate
		break
	fi
done
if [ -z "$py" ]; then
	echo "{{name}}: no Python 3 interpreter with pip${require:+ and$require} found" \
		"(tried ${PYTHON:+$PYTHON, }python3, /usr/bin/python3)." >&2
	echo "Install uv (https://docs.astral.sh/uv/), or install${require:-} for python3, or set PYTHON." >&2
	exit 127
fi

deps="$root/.pydeps"
stale() { ! cmp -s "$root/pyproject.toml" "$deps/.pyproject.toml" 2>/dev/null; }
if stale; then
	# One installer at a time (openapi, test and serve may start together).
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$root/.pydeps.lock"
		flock 9
	fi
	if stale; then
		tmp=$(mktemp -d "$root/.pydeps-XXXXXX")
		"$py" -c 'import sys, tomllib; print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))' \
			"$root/pyproject.toml" >"$tmp/requirements.txt"
		if ! "$py" -m pip install --quiet --disable-pip-version-check --no-warn-conflicts \
			--root-user-action=ignore --target "$tmp" -r "$tmp/requirements.txt" >&2; then
			rm -rf "$tmp"
			echo "{{name}}: pip could not install the dependencies of $root/pyproject.toml" >&2
			exit 1
		fi
		cp "$root/pyproject.toml" "$tmp/.pyproject.toml"
		rm -rf "$deps"
		mv "$tmp" "$deps"
	fi
	exec 9>&-
fi
export PYTHONDONTWRITEBYTECODE=1
PYTHONPATH="$root:$deps${PYTHONPATH:+:$PYTHONPATH}" exec "$py" "$@"
