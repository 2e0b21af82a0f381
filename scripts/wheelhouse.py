#!/usr/bin/python3
"""wheelhouse.py - build a local wheelhouse for bld's offline FastAPI pipeline.

    /usr/bin/python3 scripts/wheelhouse.py OUT_DIR

PyPI is unreachable where bld is built and tested.  This writes pure-Python
wheels (py3-none-any) into OUT_DIR for pip's --find-links (or PIP_FIND_LINKS
with PIP_NO_INDEX=1):

- FastAPI, Starlette, Pydantic, Uvicorn and their runtime dependencies, repacked
  from Debian's installed python3-* packages (/usr/lib/python3/dist-packages).
  Their versions get the local label "+deb" so a bundle shows where they came from.
- The stand-ins for aws-lambda-powertools and mangum kept in tests/standins/.

Debian's packages are pure Python (pydantic 1.10 is Debian's non-compiled
build; pydantic_core does not exist in it), so each wheel is honestly
py3-none-any and satisfies pip's `--platform manylinux2014_x86_64
--python-version 3.12 --only-binary=:all:`.  A package with a compiled
extension is refused rather than mislabelled.

Debian also relaxes one upstream pin: it ships fastapi 0.92.0 with starlette
0.26.1 although fastapi's metadata says starlette<0.26.0.  The wheel keeps
Debian's tested combination and says so in its metadata (PIN_FIXES).

Must run under Debian's /usr/bin/python3 (where the python3-* packages are).
Output is deterministic: fixed zip timestamps, sorted entries.
"""
import base64
import hashlib
import importlib.metadata as md
import io
import os
import pathlib
import re
import sys
import tomllib
import zipfile

DIST_PACKAGES = pathlib.Path("/usr/lib/python3/dist-packages")
ROOTS = ["fastapi", "starlette", "pydantic", "uvicorn", "typing_extensions"]
PIN_FIXES = {("fastapi", "starlette<0.26.0,>=0.25.0"): "starlette<0.27.0,>=0.25.0"}
# Debian's egg-info drops the base requirements it expresses as package Depends
# instead; these are the runtime ones (upstream's pins, as Debian's Depends list them).
DEBIAN_DEPENDS = {"uvicorn": ["asgiref>=3.4.0", "click>=7.0", "h11>=0.8"],
                  "anyio": ["idna>=2.8", "sniffio>=1.1"]}
STANDINS = ["aws-lambda-powertools-standin", "mangum-standin"]
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def norm(name):
    return re.sub(r"[-_.]+", "_", name).lower()


def marker_applies(req):
    """True when a requirement holds for CPython 3.11 or 3.12 on Linux without extras."""
    if ";" not in req:
        return True
    marker = req.split(";", 1)[1]
    if "extra" in marker:
        return False
    from packaging.markers import Marker
    env = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
           "platform_python_implementation": "CPython", "implementation_name": "cpython",
           "platform_machine": "x86_64"}
    return any(Marker(marker).evaluate(dict(env, python_version=v, python_full_version=v + ".0"))
               for v in ("3.11", "3.12"))


def req_name(req):
    return norm(re.split(r"[ ;<>=!~\[(]", req.strip(), maxsplit=1)[0])


def debian_dist(name):
    for d in md.distributions(path=[str(DIST_PACKAGES)]):
        if norm(d.metadata["Name"]) == norm(name):
            return d
    raise SystemExit(f"wheelhouse: {name} is not installed in {DIST_PACKAGES} "
                     f"(apt-get install python3-{name.replace('_', '-')})")


def requires_of(d):
    extra = DEBIAN_DEPENDS.get(norm(d.metadata["Name"]), [])
    return [r for r in extra if req_name(r) not in {req_name(x) for x in d.requires or []}] + \
        list(d.requires or [])


def closure(roots):
    seen, order, todo = set(), [], list(roots)
    while todo:
        d = debian_dist(todo.pop(0))
        key = norm(d.metadata["Name"])
        if key in seen:
            continue
        seen.add(key)
        order.append(d)
        todo += [req_name(r) for r in requires_of(d) if marker_applies(r)]
    return order


def debian_files(d):
    """(archive name, source path) of a Debian-installed distribution's importable files."""
    tops = sorted({t.split("/")[0] for t in (d.read_text("top_level.txt") or "").split()})
    if not tops and d.files:
        tops = sorted({str(f).split("/")[0] for f in d.files
                       if not str(f).startswith("..") and ".dist-info" not in str(f)})
    out = []
    for top in tops:
        top = top.removesuffix(".py")
        pkg, mod = DIST_PACKAGES / top, DIST_PACKAGES / (top + ".py")
        if pkg.is_dir():
            out += [(str(p.relative_to(DIST_PACKAGES)), p) for p in sorted(pkg.rglob("*"))
                    if p.is_file() and "__pycache__" not in p.parts]
        elif mod.is_file():
            out.append((mod.name, mod))
    return out


def check_pure(name, files):
    native = [a for a, _ in files if a.endswith((".so", ".pyd", ".dylib"))]
    if native:
        raise SystemExit(f"wheelhouse: {name} has compiled extensions ({native[0]}); a py3-none-any "
                         "wheel of it would be a lie for the Lambda platform")


def metadata_text(name, version, summary, requires_python, requires, extras):
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
             f"Summary: {summary}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Provides-Extra: {e}" for e in extras]
    lines += [f"Requires-Dist: {r}" for r in requires]
    return "\n".join(lines) + "\n\n"


def write_wheel(out_dir, name, version, files, metadata):
    dist = f"{norm(name)}-{version}"
    info = f"{dist}.dist-info"
    entries = [(a, p.read_bytes()) for a, p in files]
    entries.append((f"{info}/METADATA", metadata.encode()))
    entries.append((f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: bld-wheelhouse\n"
                    b"Root-Is-Purelib: true\nTag: py3-none-any\n\n"))
    record = io.StringIO()
    for arc, data in entries:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.write(f"{arc},sha256={digest},{len(data)}\n")
    record.write(f"{info}/RECORD,,\n")
    entries.append((f"{info}/RECORD", record.getvalue().encode()))
    path = out_dir / f"{dist}-py3-none-any.whl"
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for arc, data in entries:
            zi = zipfile.ZipInfo(arc, ZIP_TIME)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    os.replace(tmp, path)
    return path


def debian_wheel(out_dir, d):
    name = d.metadata["Name"]
    files = debian_files(d)
    if not files:
        raise SystemExit(f"wheelhouse: found no files for {name} in {DIST_PACKAGES}")
    check_pure(name, files)
    requires, extras = [], []
    for r in requires_of(d):
        r = PIN_FIXES.get((norm(name), r), r)
        requires.append(r)
        for e in re.findall(r"extra\s*==\s*['\"]([^'\"]+)['\"]", r):
            if e not in extras:
                extras.append(e)
    summary = (d.metadata["Summary"] or "") + " (repacked from Debian's python3 package)"
    meta = metadata_text(name, d.version + "+deb", summary, d.metadata["Requires-Python"],
                         requires, extras)
    return write_wheel(out_dir, name, d.version + "+deb", files, meta)


def standin_wheel(out_dir, folder):
    proj = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    pkgs = [p for p in sorted(folder.iterdir()) if (p / "__init__.py").is_file()]
    files = [(str(p.relative_to(folder)), p) for pkg in pkgs for p in sorted(pkg.rglob("*"))
             if p.is_file() and "__pycache__" not in p.parts]
    extras = sorted(proj.get("optional-dependencies", {}))
    meta = metadata_text(proj["name"], proj["version"], proj["description"],
                         proj.get("requires-python"), proj.get("dependencies", []), extras)
    return write_wheel(out_dir, proj["name"], proj["version"], files, meta)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    out_dir = pathlib.Path(argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    standins = pathlib.Path(__file__).resolve().parents[1] / "tests" / "standins"
    built = [debian_wheel(out_dir, d) for d in closure(ROOTS)]
    built += [standin_wheel(out_dir, standins / s) for s in STANDINS]
    for path in built:
        print(path.name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
