#!/usr/bin/python3
"""Generate a synthetic Nx-format monorepo for benchmarks (bench/README in docs/benchmarks.md).

The same seed and N always give the same files and the same git commit: project i depends on
0-3 earlier projects (a seeded PRNG picks them), so the graph is acyclic and the first projects
collect many transitive dependents. Every project has a `build` target that is cheap but real
work (concatenating its sources into dist/packages/<p>/out.txt), declared three ways so that bld,
Nx and Turborepo run exactly the same command:
  - project.json: nx:run-commands, cache: true, dependsOn ^build, outputs dist/packages/<p>;
  - package.json: the same command as its "build" script, workspace dependencies by name;
  - turbo.json: build dependsOn ^build with the same outputs (one entry per package).
A bench-meta.json at the root names the projects the scenarios use (see compare.py).

Standard library only; run with Debian's /usr/bin/python3:
    bench/genws.py --projects 1000 --out /tmp/ws1000 [--seed 1] [--files 3] [--force]
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys

WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
	 "rho sigma tau upsilon phi chi psi omega").split()


def project_names(n):
	width = max(4, len(str(n - 1)))
	return ["p%0*d" % (width, i) for i in range(n)]


def pick_deps(rng, n):
	"""deps[i]: sorted list of 0-3 indices < i."""
	deps = []
	for i in range(n):
		k = min(i, rng.randint(0, 3))
		deps.append(sorted(rng.sample(range(i), k)))
	return deps


def source_text(rng, name, idx, size):
	"""A TypeScript-looking file of about size bytes."""
	lines = ["// %s: generated source %d" % (name, idx)]
	total = len(lines[0])
	fn = 0
	while total < size:
		w = rng.sample(WORDS, 3)
		block = ("export function %s_%s_%d(x: number): number {\n"
			 "  const %s = x * %d + %d;\n"
			 "  return %s - %d; // %s\n"
			 "}\n") % (w[0], w[1], fn, w[2], rng.randint(2, 999), rng.randint(0, 99999),
				   w[2], rng.randint(0, 999), " ".join(rng.sample(WORDS, 6)))
		lines.append(block)
		total += len(block)
		fn += 1
	return "\n".join(lines) + "\n"


def build_command(name):
	"""The build command, run with the project folder as working directory."""
	out = "../../dist/packages/%s" % name
	return "mkdir -p %s && cat src/*.ts > %s/out.txt" % (out, out)


def write(path, text):
	os.makedirs(os.path.dirname(path), exist_ok=True)
	with open(path, "w", encoding="utf-8") as f:
		f.write(text)


def write_json(path, obj):
	write(path, json.dumps(obj, indent=2) + "\n")


def write_project(root, names, deps, i, rng, files, fsize):
	name = names[i]
	pdir = os.path.join(root, "packages", name)
	cmd = build_command(name)
	write_json(os.path.join(pdir, "project.json"), {
		"name": name,
		"$schema": "../../node_modules/nx/schemas/project-schema.json",
		"root": "packages/" + name,
		"sourceRoot": "packages/%s/src" % name,
		"projectType": "library",
		"tags": ["bench"],
		"targets": {
			"build": {
				"executor": "nx:run-commands",
				"cache": True,
				"dependsOn": ["^build"],
				"outputs": ["{workspaceRoot}/dist/packages/" + name],
				"options": {"command": cmd, "cwd": "packages/" + name},
			}
		},
	})
	write_json(os.path.join(pdir, "package.json"), {
		"name": name,
		"version": "0.0.0",
		"private": True,
		"scripts": {"build": cmd},
		"dependencies": {names[d]: "*" for d in deps[i]},
		# Nx would otherwise also infer a target from every script.
		"nx": {"includedScripts": []},
	})
	imports = "".join("import * as %s from '%s';\n" % (names[d], names[d]) for d in deps[i])
	write(os.path.join(pdir, "src", "index.ts"),
	      imports + "export * from './lib0';\nexport const name = '%s';\n" % name)
	for f in range(files - 1):
		write(os.path.join(pdir, "src", "lib%d.ts" % f), source_text(rng, name, f, fsize))


def dependents_count(n, deps):
	"""Transitive dependents of each project (projects are in topological order)."""
	rdeps = [[] for _ in range(n)]
	for i in range(n):
		for d in deps[i]:
			rdeps[d].append(i)
	counts = []
	for i in range(n):
		seen, stack = set(), [i]
		while stack:
			for r in rdeps[stack.pop()]:
				if r not in seen:
					seen.add(r)
					stack.append(r)
		counts.append(len(seen))
	return counts


def write_root(root, names, deps, seed):
	n = len(names)
	write_json(os.path.join(root, "nx.json"), {
		"$schema": "./node_modules/nx/schemas/nx-schema.json",
		"namedInputs": {"default": ["{projectRoot}/**/*"], "sharedGlobals": []},
		"neverConnectToCloud": True,
		"analytics": False,
		"tui": {"enabled": False},
	})
	write_json(os.path.join(root, "package.json"), {
		"name": "bench-ws",
		"version": "0.0.0",
		"private": True,
		"packageManager": "npm@10.9.2",
		"workspaces": ["packages/*"],
	})
	lock = {"name": "bench-ws", "version": "0.0.0", "lockfileVersion": 3, "requires": True,
		"packages": {"": {"name": "bench-ws", "version": "0.0.0", "workspaces": ["packages/*"]}}}
	for i, name in enumerate(names):
		entry = {"name": name, "version": "0.0.0"}
		if deps[i]:
			entry["dependencies"] = {names[d]: "*" for d in deps[i]}
		lock["packages"]["packages/" + name] = entry
		lock["packages"]["node_modules/" + name] = {"resolved": "packages/" + name, "link": True}
	write_json(os.path.join(root, "package-lock.json"), lock)
	tasks = {"build": {"dependsOn": ["^build"], "outputs": []}}
	for name in names:
		tasks[name + "#build"] = {"dependsOn": ["^build"],
					  "outputs": ["$TURBO_ROOT$/dist/packages/%s/**" % name]}
	write_json(os.path.join(root, "turbo.json"), {
		"$schema": "https://turbo.build/schema.json",
		"ui": "stream",
		"tasks": tasks,
	})
	write(os.path.join(root, ".gitignore"),
	      "node_modules\ndist\n.nx\n.turbo\n.bld\n.bench\n")
	counts = dependents_count(n, deps)
	hub = max(range(n), key=lambda i: (counts[i], -i))
	# A single task with no dependencies: the last project that has none.
	single = max(i for i in range(n) if not deps[i])
	write_json(os.path.join(root, "bench-meta.json"), {
		"projects": n, "seed": seed,
		"edges": sum(len(d) for d in deps),
		"hub": names[hub], "hub_dependents": counts[hub],
		"hub_file": "packages/%s/src/lib0.ts" % names[hub],
		"single": names[single],
		"topo": names,
		"deps": {names[i]: [names[d] for d in deps[i]] for i in range(n)},
	})


def git(root, *args):
	env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.invalid",
		   GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.invalid",
		   GIT_AUTHOR_DATE="2026-01-01T00:00:00Z", GIT_COMMITTER_DATE="2026-01-01T00:00:00Z")
	subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"] +
		       list(args), cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)


def generate(root, n, seed, files, fsize):
	rng = random.Random(seed)
	names = project_names(n)
	deps = pick_deps(rng, n)
	os.makedirs(root)
	for i in range(n):
		write_project(root, names, deps, i, rng, files, fsize)
	write_root(root, names, deps, seed)
	git(root, "init", "-q")
	git(root, "add", "-A")
	git(root, "commit", "-q", "-m", "bench workspace: %d projects, seed %d" % (n, seed))


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	ap.add_argument("--projects", "-n", type=int, required=True)
	ap.add_argument("--out", "-o", required=True, help="folder to create")
	ap.add_argument("--seed", type=int, default=1)
	ap.add_argument("--files", type=int, default=3, help="source files per project (>= 2)")
	ap.add_argument("--file-size", type=int, default=2048, help="bytes per generated source")
	ap.add_argument("--force", action="store_true", help="replace --out if it exists")
	a = ap.parse_args()
	if a.projects < 1 or a.files < 2:
		ap.error("need --projects >= 1 and --files >= 2")
	if os.path.exists(a.out):
		if not a.force:
			sys.exit("genws: %s exists (use --force to replace it)" % a.out)
		shutil.rmtree(a.out)
	generate(a.out, a.projects, a.seed, a.files, a.file_size)
	print(a.out)


if __name__ == "__main__":
	main()
