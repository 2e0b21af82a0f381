#!/usr/bin/python3
"""The store seam (docs/cache.md): no file of the store includes a graph header.

    check_seam.py SOURCE_ROOT STORE_FILE...

Follows every #include "..." of each store file (resolved beside the file, then in
include/), transitively, and fails naming the chain when one reaches a header that
carries graph types: bld/workspace.h, bld/taskgraph.h, bld/cache.h (the hasher) or
cache/hasher_int.h.
"""
import pathlib
import re
import sys

GRAPH = {'include/bld/workspace.h', 'include/bld/taskgraph.h', 'include/bld/cache.h',
         'cache/hasher_int.h'}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def includes(root, path):
    """The project files path includes (quoted includes only), as root-relative paths."""
    for name in INCLUDE.findall((root / path).read_text()):
        for base in (path.parent, pathlib.Path('include')):
            cand = base / name
            if (root / cand).is_file():
                yield pathlib.Path(*cand.parts)
                break


def chain_to_graph(root, start):
    """The include chain from start to a graph header, or None."""
    seen = set()
    stack = [(start, [start])]
    while stack:
        path, chain = stack.pop()
        if path.as_posix() in GRAPH:
            return chain
        if path in seen:
            continue
        seen.add(path)
        for inc in includes(root, path):
            stack.append((inc, chain + [inc]))
    return None


def main():
    root = pathlib.Path(sys.argv[1]).resolve()
    bad = 0
    for arg in sys.argv[2:]:
        start = pathlib.Path(arg).resolve().relative_to(root)
        chain = chain_to_graph(root, start)
        if chain:
            bad += 1
            print(f'{start}: the store includes a graph header: '
                  + ' -> '.join(p.as_posix() for p in chain))
    if len(sys.argv) < 3:
        print('check_seam.py: no store files given')
        return 2
    print(f'{len(sys.argv) - 2} store files, {bad} with graph headers')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
