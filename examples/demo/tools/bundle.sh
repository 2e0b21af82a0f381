#!/bin/sh
# bundle.sh APP_ROOT DEP_ROOT... - assemble a runnable bundle of an app and the
# built outputs of its dependencies under dist/APP_ROOT/bundle.
set -eu
app=$1; shift
out="dist/$app/bundle"
rm -rf "$out"
mkdir -p "$out/lib"
for root in "$app" "$@"; do
	cp "dist/$root"/*.py "$out/lib/"
done
cat > "$out/run.sh" <<'RUN'
#!/bin/sh
here=$(cd "$(dirname "$0")" && pwd)
PYTHONPATH="$here/lib" exec python3 -m main "$@"
RUN
chmod +x "$out/run.sh"
echo "bundle: $out ($(ls "$out/lib" | wc -l) modules)"
"$out/run.sh" bundle
