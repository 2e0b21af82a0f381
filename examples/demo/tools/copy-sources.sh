#!/bin/sh
# copy-sources.sh ROOT - copy a project's Python sources to dist/ROOT (a build).
set -eu
root=$1
rm -rf "dist/$root"
mkdir -p "dist/$root"
cp "$root"/src/*.py "dist/$root/"
echo "built $root: $(ls "dist/$root" | tr '\n' ' ')"
