#!/bin/sh
# bundle.sh - build {{name}}'s AWS Lambda bundle in {{dist}}/bundle:
# the {{module}} package and its runtime dependencies (no tests, no dev dependencies),
# installed for the Lambda platform: x86_64 manylinux, CPython 3.12.
#
# With uv: export the locked requirements (uv.lock when present), then install them
# into the bundle.  Without uv: pip install --target with pip's platform flags, then
# copy the module's sources.  Both use whatever index the environment names
# (PIP_INDEX_URL / UV_INDEX_URL, PIP_FIND_LINKS / UV_FIND_LINKS, PIP_NO_INDEX / UV_OFFLINE):
# PyPI by default.
set -eu
root={{root}}
out={{dist}}/bundle
rm -rf "$out"
mkdir -p "$out"

if command -v uv >/dev/null 2>&1 && [ -z "${BLD_NO_UV:-}" ]; then
	# From the project folder, so the exported "." (the project itself, built by its
	# build backend) means the same to both commands.
	abs_out=$(cd "$out" && pwd)
	frozen=""
	[ -f "$root/uv.lock" ] && frozen=--frozen
	(cd "$root" && uv export $frozen --no-dev --no-editable --no-hashes --no-header \
		-o "$abs_out/requirements.txt")
	(cd "$root" && uv pip install --no-deps --no-installer-metadata --no-compile-bytecode \
		--python-platform x86_64-manylinux2014 --python-version 3.12 \
		--target "$abs_out" -r "$abs_out/requirements.txt")
	exit 0
fi

py=""
for candidate in ${PYTHON:-} python3 /usr/bin/python3; do
	if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import pip, tomllib" 2>/dev/null; then
		py=$candidate
		break
	fi
done
if [ -z "$py" ]; then
	echo "{{name}}:bundle needs uv, or a Python >= 3.11 with pip (tried ${PYTHON:+$PYTHON, }python3, /usr/bin/python3)." >&2
	exit 127
fi
"$py" -c 'import sys, tomllib; print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))' \
	"$root/pyproject.toml" >"$out/requirements.txt"
"$py" -m pip install --quiet --disable-pip-version-check --no-warn-conflicts --root-user-action=ignore --no-compile \
	--target "$out" --platform manylinux2014_x86_64 --implementation cp --python-version 3.12 \
	--only-binary=:all: -r "$out/requirements.txt"
mkdir -p "$out/{{module}}"
(cd "$root/{{module}}" && find . -name __pycache__ -prune -o -type f -print) | while read -r f; do
	mkdir -p "$(dirname "$out/{{module}}/$f")"
	cp "$root/{{module}}/$f" "$out/{{module}}/$f"
done
