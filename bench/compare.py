#!/usr/bin/python3
"""bld side by side with Nx and Turborepo on a generated workspace (docs/benchmarks.md).

One run generates a workspace (bench/genws.py), installs pinned Nx and Turborepo from npm into a
scratch folder outside the repository (a peer is skipped, with a message, when npm or the peer's
binary does not work), then for each scenario:
  1. brings the workspace to the scenario's state and runs every tool once, checking that the
     command succeeds and really did the work (outputs byte-exact); that run is timed by
     /usr/bin/time for the peak RSS of the tool's process tree (client, or client + one-shot
     engine);
  2. times the floor(s) and every tool that passed, interleaved in ONE hyperfine call, so all
     figures of a row come from the same minutes of this shared machine;
  3. for bld, runs the scenario once more with BLD_DEBUG=stats and keeps what it prints.
Then it writes results.json, table.md (medians, each peer's ratio to bld) and the raw hyperfine
JSON into --out.

    bench/compare.py --bld build-bench/client/bld --bldd build-bench/daemon/bldd -n 1000
    bench/compare.py --smoke ...          N=10, one run per command: what CI runs (suite 'perf')
    bench/compare.py --profile perf-record --scenario cached -n 1000 ...   profile bld in one scenario

Standard library only; run with Debian's /usr/bin/python3.
"""

import argparse
import datetime
import json
import os
import platform
import random
import re
import shlex
import shutil
import signal
import threading
import zlib
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NX_VERSION = "24.0.6"
TURBO_VERSION = "2.11.11"
TOOLS = ["bld", "bld-daemon", "nx", "nx-daemon", "turbo"]
TOOL_TITLES = {"bld": "bld one-shot", "bld-daemon": "bld warm daemon", "nx": "Nx (no daemon)",
	       "nx-daemon": "Nx daemon", "turbo": "Turborepo"}
PEERS = ["nx", "nx-daemon", "turbo"]
# Scenarios whose failure for bld is a harness error in --smoke (the rest may be n/a).
# Seconds one hyperfine call may take (--row-timeout): past it the whole process group is
# killed and the row says so, instead of the run hanging.
HYPERFINE_TIMEOUT = 3600
CORE = ["list", "cold", "cached", "single", "restore", "change"]


def log(msg):
	print("bench: " + msg, file=sys.stderr, flush=True)


def oneline(text, n=200):
	"""The last non-empty line of text, at most n characters: for messages in tables."""
	lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
	return (lines[-1] if lines else "(no output)")[:n]


def run(cmd, cwd=None, env=None, timeout=None, shell=False):
	"""(exit code, stdout, stderr); exit code 124 on timeout, 127 when cmd cannot start.
	The command runs in its own process group, and a timeout kills the whole group: a
	tool's children (Turborepo's npm runs) would otherwise keep the pipes open and the
	wait for them would never end."""
	try:
		p = subprocess.Popen(cmd, cwd=cwd, env=env, shell=shell, stdin=subprocess.DEVNULL,
				     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
				     start_new_session=True)
	except OSError as e:
		return 127, "", str(e)
	try:
		out, err = p.communicate(timeout=timeout)
	except subprocess.TimeoutExpired:
		kill_group(p)
		return 124, "", "timed out after %ss" % timeout
	return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def kill_group(p):
	"""SIGKILL p's process group, then reap p (its pipes are not read any more)."""
	try:
		os.killpg(p.pid, signal.SIGKILL)
	except OSError:
		pass
	for f in (p.stdout, p.stderr):
		if f:
			f.close()
	p.wait()


# ---------------------------------------------------------------- peers

def ensure_peers(folder, timeout):
	"""Install pinned nx and turbo into folder; returns {peer: {"ok", "version"|"why"}}."""
	res = {}
	nxbin = os.path.join(folder, "node_modules", "nx", "dist", "bin", "nx.js")
	turbobin = os.path.join(folder, "node_modules", "@turbo", "linux-64", "bin", "turbo")
	if not shutil.which("node") or not shutil.which("npm"):
		why = "node/npm not installed"
		return {p: {"ok": False, "why": why} for p in ("nx", "turbo")}
	want = {"nx": NX_VERSION, "turbo": TURBO_VERSION}
	have = {}
	for name in want:
		try:
			with open(os.path.join(folder, "node_modules", name, "package.json")) as f:
				have[name] = json.load(f).get("version")
		except (OSError, ValueError):
			have[name] = None
	if have != want:
		os.makedirs(folder, exist_ok=True)
		if not os.path.exists(os.path.join(folder, "package.json")):
			with open(os.path.join(folder, "package.json"), "w") as f:
				f.write('{"name": "bld-bench-peers", "private": true}\n')
		log("installing nx@%s turbo@%s into %s" % (NX_VERSION, TURBO_VERSION, folder))
		env = dict(os.environ, npm_config_legacy_peer_deps="true", npm_config_fund="false",
			   npm_config_audit="false", npm_config_update_notifier="false")
		rc, out, err = run(["npm", "install", "--no-save", "nx@" + NX_VERSION,
				    "turbo@" + TURBO_VERSION], cwd=folder, env=env, timeout=timeout)
		if rc != 0:
			msgs = [l for l in (err + out).splitlines() if "npm error" in l and
				"complete log" not in l and l.strip() != "npm error"]
			why = "npm install failed (exit %d): %s" % (rc, msgs[0][:200] if msgs else
								     oneline(err or out))
			return {p: {"ok": False, "why": why} for p in ("nx", "turbo")}
	try:
		with open(os.path.join(folder, "node_modules", "nx", "package.json")) as f:
			nxbin = os.path.join(folder, "node_modules", "nx", json.load(f)["bin"]["nx"])
	except (OSError, ValueError, KeyError):
		pass
	for name, cmd in (("nx", ["node", nxbin, "--version"]), ("turbo", [turbobin, "--version"])):
		rc, out, err = run(cmd, cwd=folder, timeout=120, env=peer_env(None))
		ver = want[name]
		if rc == 0 and ver in out:
			res[name] = {"ok": True, "version": ver}
		else:
			res[name] = {"ok": False,
				     "why": "`%s --version` does not run (exit %d): %s" %
				     (name, rc, oneline(err or out))}
	res["bins"] = {"nx": nxbin, "turbo": turbobin}
	return res


def peer_env(base):
	"""The environment every command of a run gets: no telemetry, no cloud, no TUI, no colour."""
	env = dict(base if base is not None else os.environ)
	env.update({"NX_NO_CLOUD": "true", "NX_TUI": "false", "NX_SKIP_NX_CACHE": "false",
		    "NX_VERBOSE_LOGGING": "false", "NX_INTERACTIVE": "false",
		    "TURBO_TELEMETRY_DISABLED": "1", "DO_NOT_TRACK": "1",
		    "TURBO_NO_UPDATE_NOTIFIER": "1", "TURBO_UI": "false", "NO_COLOR": "1",
		    "FORCE_COLOR": "0", "NX_DAEMON": "false"})
	return env


# ---------------------------------------------------------------- workspace

class Workspace:
	"""The generated workspace plus what the scenarios need to know about it."""

	def __init__(self, root):
		self.root = root
		with open(os.path.join(root, "bench-meta.json")) as f:
			self.meta = json.load(f)
		self.names = self.meta["topo"]
		self.deps = self.meta["deps"]
		self.single = self.meta["single"]
		# the last project: nothing depends on it (dependencies point to earlier ones),
		# so an edit in it reruns one task; run alone, it brings its dependencies
		self.leaf = self.names[-1]
		self.leaf_file = "packages/%s/src/lib0.ts" % self.leaf
		self.deps_target = self.leaf
		self.deps_closure = dependencies_of(self.deps, self.leaf)
		self.fmt = {"single": self.single, "deps_target": self.deps_target}
		self.change = pick_change_project(self.names, self.deps)
		self.change_file = "packages/%s/src/lib0.ts" % self.change
		self.change_set = dependents_of(self.names, self.deps, self.change)
		self.benchdir = os.path.join(root, ".bench")
		os.makedirs(self.benchdir, exist_ok=True)
		self.write_dist_copy()

	def path(self, *p):
		return os.path.join(self.root, *p)

	def write_loop(self, fname, projects):
		"""A shell script running the build command of projects, in order, one at a time."""
		lines = ["set -e"]
		for p in projects:
			with open(self.path("packages", p, "package.json")) as f:
				cmd = json.load(f)["scripts"]["build"]
			lines.append("(cd packages/%s && %s)" % (p, cmd))
		with open(os.path.join(self.benchdir, fname), "w") as f:
			f.write("\n".join(lines) + "\n")
		return "sh .bench/" + fname

	def write_dist_copy(self):
		"""The right dist/ in .bench/dist: what the `cp -a` floor of the restore row copies."""
		shutil.rmtree(os.path.join(self.benchdir, "dist"), ignore_errors=True)
		for p in self.names:
			d = os.path.join(self.benchdir, "dist", "packages", p)
			os.makedirs(d)
			with open(os.path.join(d, "out.txt"), "wb") as f:
				f.write(self.expected_out(p))

	def expected_out(self, p):
		src = self.path("packages", p, "src")
		data = b""
		for fn in sorted(os.listdir(src)):
			if fn.endswith(".ts"):
				with open(os.path.join(src, fn), "rb") as f:
					data += f.read()
		return data

	def check_outputs(self, projects):
		"""None when dist/packages/<p>/out.txt is right for every p, else what is wrong."""
		bad = []
		for p in projects:
			try:
				with open(self.path("dist", "packages", p, "out.txt"), "rb") as f:
					if f.read() != self.expected_out(p):
						bad.append(p + " (differs)")
			except OSError:
				bad.append(p + " (missing)")
		if not bad:
			return None
		return "%d of %d outputs wrong: %s" % (len(bad), len(projects), ", ".join(bad[:5]))


def pick_change_project(names, deps):
	"""The project whose transitive dependents number closest to 10% of the workspace."""
	target = max(1, len(names) // 10)
	index = {p: i for i, p in enumerate(names)}
	below = [0] * len(names)	# bit set of each project's transitive dependents
	for i in range(len(names) - 1, -1, -1):
		for d in deps[names[i]]:
			below[index[d]] |= below[i] | (1 << i)
	best = min(range(len(names)), key=lambda i: (abs(bin(below[i]).count("1") - target), i))
	return names[best]


def dependencies_of(deps, p):
	"""p and everything it depends on, transitively."""
	seen, stack = {p}, [p]
	while stack:
		for d in deps[stack.pop()]:
			if d not in seen:
				seen.add(d)
				stack.append(d)
	return seen


def dependents_of(names, deps, p):
	"""p and everything that depends on it, transitively, in topological order."""
	hit = {p}
	for q in names:
		if any(d in hit for d in deps[q]):
			hit.add(q)
	return [q for q in names if q in hit]


def generate(args):
	root = os.path.join(args.workdir, "ws%d" % args.projects)
	if args.reuse and os.path.exists(os.path.join(root, "bench-meta.json")):
		log("reusing %s" % root)
	else:
		log("generating %d projects into %s" % (args.projects, root))
		rc, out, err = run(["/usr/bin/python3", os.path.join(HERE, "genws.py"), "-n",
				    str(args.projects), "-o", root, "--force", "--seed", str(args.seed)])
		if rc != 0:
			sys.exit("bench: genws.py failed: " + err)
	return Workspace(root)


def make_affected_commit(ws, nfiles, seed):
	"""A branch 'bench-affected' whose one commit edits nfiles source files; returns the
	expected affected projects. The tree is left on main."""
	rng = random.Random(seed)
	files = []
	for p in ws.names:
		for fn in sorted(os.listdir(ws.path("packages", p, "src"))):
			files.append("packages/%s/src/%s" % (p, fn))
	chosen = sorted(rng.sample(files, min(nfiles, len(files))))
	git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
	run(git + ["branch", "-D", "bench-affected"], cwd=ws.root)
	run(git + ["checkout", "-q", "-b", "bench-affected"], cwd=ws.root)
	for f in chosen:
		with open(ws.path(f), "a") as fh:
			fh.write("// affected-change\n")
	run(git + ["commit", "-q", "-am", "bench: %d files changed" % len(chosen)], cwd=ws.root)
	rc, _, err = run(git + ["checkout", "-q", "main"], cwd=ws.root)
	if rc != 0:
		sys.exit("bench: git checkout main failed: " + err)
	changed = sorted({f.split("/")[1] for f in chosen})
	hit = set()
	for p in changed:
		hit.update(dependents_of(ws.names, ws.deps, p))
	return len(chosen), sorted(hit)


# ---------------------------------------------------------------- scenarios

def tool_commands(args, peers):
	"""{tool: {scenario: command}} for the tools that can run (absent = n/a). Commands are
	run without a shell (hyperfine -N): what differs between tools goes through `env`,
	the rest is in the environment of the whole run (bench_env)."""
	q = shlex.quote
	par = str(args.parallel)
	b = q(args.bld)
	cmds = {"bld": {
		"list": b + " show projects",
		"cold": b + " run-many -t build --skip-cache --parallel " + par,
		"cached": b + " run-many -t build --parallel " + par,
		"single": b + " run {single}:build --parallel " + par,
		"restore": b + " run-many -t build --parallel " + par,
		"change": b + " run-many -t build --parallel " + par,
		"affected": b + " show projects --affected --base=main --head=bench-affected",
		"affected-dry": b + " affected -t build --dry-run --base=main --head=bench-affected",
		# bld only: each build task's hash against its hash at the merge-base (computed
		# from git's trees); the project-level rule on the same change is the row's floor
		"affected-inputs": b + " show projects --affected -t build --by-inputs --base=main "
		"--head=bench-affected",
	}}
	cmds["bld"]["single-deps"] = b + " run {deps_target}:build --parallel " + par
	cmds["bld"]["leaf"] = cmds["bld"]["cached"]
	# bld's commands are run as they are through its resident daemon (started by the
	# first run, stopped by daemon_memory at the end); the one-shot column adds
	# --no-daemon. Neither has an `env` in front: at a few milliseconds an exec shows.
	cmds["bld-daemon"] = dict(cmds["bld"])
	cmds["bld"] = {k: c + " --no-daemon" for k, c in cmds["bld"].items()}
	if peers.get("nx", {}).get("ok"):
		for tool, pre in (("nx", ""), ("nx-daemon", "env NX_DAEMON=true ")):
			n = pre + "node " + q(peers["bins"]["nx"])
			cmds[tool] = {
				"list": n + " show projects",
				"cold": n + " run-many -t build --skipNxCache --parallel=" + par,
				"cached": n + " run-many -t build --parallel=" + par,
				"single": n + " run {single}:build --parallel=" + par,
				"single-deps": n + " run {deps_target}:build --parallel=" + par,
				"leaf": n + " run-many -t build --parallel=" + par,
				"restore": n + " run-many -t build --parallel=" + par,
				"change": n + " run-many -t build --parallel=" + par,
				"affected": n + " show projects --affected --base=main --head=bench-affected",
				# Nx has no dry run: the nearest is the affected projects with the target
				"affected-dry": n + " show projects --affected -t build --base=main "
				"--head=bench-affected",
			}
	if peers.get("turbo", {}).get("ok"):
		t = q(peers["bins"]["turbo"])
		cmds["turbo"] = {
			"list": t + " ls",
			"cold": t + " run build --force --concurrency=" + par,
			"cached": t + " run build --concurrency=" + par,
			"single": t + " run build --filter={single} --concurrency=" + par,
			"single-deps": t + " run build --filter={deps_target} --concurrency=" + par,
			"leaf": t + " run build --concurrency=" + par,
			"restore": t + " run build --concurrency=" + par,
			"change": t + " run build --concurrency=" + par,
			"affected": t + " ls --filter=...[main...bench-affected]",
			"affected-dry": t + " run build --dry-run=json --filter=...[main...bench-affected]",
		}
	for tool, rows, _ in skipped_tools(args):
		for row in rows or list(cmds.get(tool, {})):
			cmds.get(tool, {}).pop(row, None)
		if not cmds.get(tool, True):
			del cmds[tool]
	return cmds


def skipped_tools(args):
	"""--skip-tool TOOL[:ROW,ROW]=WHY as [(tool, [rows] or None for all, why)]."""
	res = []
	for t in args.skip_tool:
		spec, _, why = t.partition("=")
		tool, _, rows = spec.partition(":")
		res.append((tool, rows.split(",") if rows else None, why or "--skip-tool"))
	return res


def bench_env(args):
	"""The environment of every command: one-shot bld, no telemetry, cloud, TUI or colour."""
	env = peer_env(None)
	env.pop("CI", None)
	env.pop("BLD_DAEMON", None)	# bld's columns choose with --no-daemon (tool_commands)
	env.update({"BLDD": args.bldd})
	return env


class Scenario:
	"""A row: prepare runs (through sh) before every run; slow rows are timed round-robin."""

	def __init__(self, key, title, prepare=None, floors=(), slow=False, check=None):
		self.key, self.title, self.prepare = key, title, prepare
		self.floors, self.slow, self.check = list(floors), slow, check


def scenarios(ws, args):
	n = len(ws.names)
	everything = lambda out: ws.check_outputs(ws.names)
	leaf_prep = "printf '// %%s\\n' \"$(date +%%s%%N)\" >> %s" % ws.leaf_file
	change_prep = "printf '// %%s\\n' \"$(date +%%s%%N)\" >> %s" % ws.change_file
	return [
		Scenario("list", "list projects", floors=[
			("true", "true"),
			("cat every project.json", "sh -c 'cat packages/*/project.json >/dev/null'")],
			check=lambda out: None if all(p in out for p in ws.names)
			else "not every project listed"),
		Scenario("cold", "cold full build (%d tasks, cache not read)" % n,
			 prepare="rm -rf dist", slow=True,
			 floors=[("shell loop, serial", ws.write_loop("all.sh", ws.names))],
			 check=everything),
		Scenario("cached", "fully cached `run-many -t build` (%d tasks)" % n,
			 floors=[("true", "true"), ("git status", "git status")], check=everything),
		Scenario("single", "fully cached single task (%s:build, no deps)" % ws.single,
			 floors=[("true", "true")],
			 check=lambda out: ws.check_outputs([ws.single])),
		Scenario("single-deps", "fully cached single task with its dependencies (%s:build, "
			 "%d tasks)" % (ws.deps_target, len(ws.deps_closure)),
			 floors=[("true", "true")],
			 check=lambda out: ws.check_outputs(sorted(ws.deps_closure))),
		Scenario("leaf", "one leaf file edited (%s), then `run-many` (1 task rerun)" %
			 ws.leaf_file, prepare=leaf_prep,
			 floors=[("true", "true"),
				 ("the leaf's command", ws.write_loop("leaf.sh", [ws.leaf]))],
			 check=lambda out: ws.check_outputs([ws.leaf])),
		Scenario("restore", "restore everything after `rm -rf dist`", prepare="rm -rf dist",
			 floors=[("git status", "git status"),
				 ("cp -a of dist", "sh -c 'rm -rf dist && cp -a .bench/dist dist'")],
			 check=everything),
		Scenario("change", "one source file changed in %s (%d tasks rerun)" %
			 (ws.change, len(ws.change_set)), prepare=change_prep, slow=True,
			 floors=[("shell loop, serial", ws.write_loop("change.sh", ws.change_set))],
			 check=everything),
		Scenario("affected", "affected projects, %d-file change" % args.affected_files,
			 floors=[("git diff --name-only", "git diff --name-only main bench-affected")],
			 check=lambda out: None if set(ws.affected) <= set(out.split())
			 else "not every affected project listed"),
		Scenario("affected-dry", "affected -t build --dry-run (hash + cache status of each "
			 "affected task), %d-file change" % args.affected_files,
			 floors=[("git diff --name-only", "git diff --name-only main bench-affected")],
			 check=lambda out: None),
		Scenario("affected-inputs", "affected projects by task hashes (--by-inputs -t "
			 "build), %d-file change" % args.affected_files,
			 floors=[("git diff --name-only", "git diff --name-only main bench-affected"),
				 ("bld project rule (-t build)", shlex.quote(args.bld) +
				  " show projects --affected -t build --base=main --head=bench-affected"
				  " --no-daemon")],
			 check=lambda out: None if set(ws.affected) <= set(out.split())
			 else "not every affected project listed (every changed file is an input)"),
	]


# ---------------------------------------------------------------- measuring

def timed_once(ws, cmd, prepare, env):
	"""Run prepare, then cmd under /usr/bin/time; (rc, stdout, stderr, peak_rss_kb, seconds)."""
	if prepare:
		run(prepare, cwd=ws.root, env=env, shell=True)
	tfile = os.path.join(ws.benchdir, "time.txt")
	full = ["/usr/bin/time", "-f", "%M %e", "-o", tfile] + shlex.split(cmd)
	rc, out, err = run(full, cwd=ws.root, env=env, timeout=HYPERFINE_TIMEOUT)
	return (rc, out, err) + read_time(tfile)


def read_time(tfile):
	"""(peak RSS KB, seconds) from a /usr/bin/time -f '%M %e' file, or (None, None)."""
	try:
		with open(tfile) as f:
			last = f.read().strip().splitlines()[-1].split()
			return int(last[0]), float(last[1])
	except (OSError, IndexError, ValueError):
		return None, None


def hyperfine(ws, prepare, entries, runs, warmup, out_json, env, quiet=False):
	"""entries: [(name, cmd)], run without a shell; returns {name: stats} or raises
	RuntimeError."""
	args = ["hyperfine", "-N", "--runs", str(runs), "--warmup", str(warmup),
		"--style", "none" if quiet else "basic", "--export-json", out_json]
	for name, cmd in entries:
		if prepare:
			args += ["--prepare", "sh -c " + shlex.quote(prepare)]
		args += ["-n", name, cmd]
	p = subprocess.Popen(args, cwd=ws.root, env=env, stdin=subprocess.DEVNULL,
			     stdout=sys.stderr, stderr=sys.stderr, start_new_session=True)
	try:
		p.wait(timeout=HYPERFINE_TIMEOUT)
	except subprocess.TimeoutExpired:
		kill_group(p)
		raise RuntimeError("hyperfine killed after %d s" % HYPERFINE_TIMEOUT)
	if p.returncode != 0:
		raise RuntimeError("hyperfine exit %d" % p.returncode)
	with open(out_json) as f:
		data = json.load(f)
	res = {}
	for r in data["results"]:
		res[r["command"]] = {"median": r["median"], "mean": r["mean"], "min": r["min"],
				     "max": r["max"], "stddev": r.get("stddev"),
				     "times": r.get("times", []),
				     "cpu": r.get("user", 0) + r.get("system", 0)}
	return res


def summarize(times):
	"""hyperfine-like statistics of a list of seconds."""
	t = sorted(times)
	mid = len(t) // 2
	med = t[mid] if len(t) % 2 else (t[mid - 1] + t[mid]) / 2
	return {"median": med, "mean": sum(t) / len(t), "min": t[0], "max": t[-1], "times": times}


def validate(ws, sc, tool, cmd, env, row):
	"""Run tool once in the scenario's state; fills row["tools"][tool]; True when it passed."""
	rc, out, err, rss, secs = timed_once(ws, cmd, sc.prepare, env)
	bad = ("exit %d: %s" % (rc, oneline(err or out))) if rc != 0 else sc.check(out)
	cell = {"cmd": cmd, "peak_rss_kb": rss, "first_run_s": secs}
	if sc.key in ("list", "affected", "affected-inputs"):
		cell["projects_listed"] = sum(1 for p in ws.names if p in out.split())
	if bad:
		cell["status"] = ("n/a (bld: %s)" % bad if tool in ("bld", "bld-daemon") and sc.key not in CORE
				  else "failed: " + bad)
		log("%s %s: %s" % (tool, sc.key, cell["status"]))
	else:
		cell["status"] = "ok"
	row["tools"][tool] = cell
	return not bad


def measure_fast(args, ws, sc, row, cmds, env, outdir):
	"""Validate each tool once, then time floors and tools in one hyperfine call."""
	entries = []
	for tool in cmds:
		if sc.key not in cmds[tool]:
			continue   # a row only some tools have (affected-inputs): n/a for the others
		cmd = cmds[tool][sc.key].format(**ws.fmt)
		if validate(ws, sc, tool, cmd, env, row):
			entries.append((TOOL_TITLES[tool], cmd))
	log("hyperfine %s: %s" % (sc.key, ", ".join(n for n, _ in entries)))
	timing = hyperfine(ws, sc.prepare, [("floor: " + n, c) for n, c in sc.floors] + entries,
			   args.runs, args.warmup, os.path.join(outdir, "hyperfine-%s.json" % sc.key),
			   env)
	for name in row["floors"]:
		row["floors"][name].update(timing.get("floor: " + name, {}))
	for tool, cell in row["tools"].items():
		if cell.get("status") == "ok":
			cell.update(timing.get(TOOL_TITLES[tool], {}))


def measure_slow(args, ws, sc, row, cmds, env, outdir):
	"""Rows of seconds to minutes: round-robin rounds, each command timed by its own
	hyperfine --runs 1 call (prepare included as usual), outputs checked after every run,
	peak RSS from /usr/bin/time around the command (about 1 ms of overhead). A command
	whose first run took longer than --slow-cap seconds is not run again."""
	live = [("floor", n, c) for n, c in sc.floors]
	live += [(t, TOOL_TITLES[t], cmds[t][sc.key].format(**ws.fmt)) for t in cmds
		 if sc.key in cmds[t]]
	done = list(live)
	times = {name: [] for _, name, _ in live}
	cpu = {name: [] for _, name, _ in live}
	tfile = os.path.join(ws.benchdir, "time.txt")
	for r in range(max(1, min(args.runs, args.slow_runs))):
		for tool, name, cmd in list(live):
			log("%s round %d: %s" % (sc.key, r + 1, name))
			wrapped = "/usr/bin/time -f '%%M %%e' -o %s %s" % (tfile, cmd)
			try:
				res = hyperfine(ws, sc.prepare, [(name, wrapped)], 1, 0,
						os.path.join(outdir, "hyperfine-%s-%d-%s.json" %
							     (sc.key, r, tool if tool != "floor" else
							      "floor-" + re.sub(r"\W+", "-", name))),
						env, quiet=True)
				bad = None if tool == "floor" else sc.check("")
			except RuntimeError as e:
				bad, res = "exit != 0 (%s)" % e, {}
			if tool != "floor" and r == 0:
				rss, secs = read_time(tfile)
				row["tools"][tool] = {"cmd": cmd, "peak_rss_kb": rss, "first_run_s": secs,
						      "status": "ok" if not bad else "failed: " + bad}
			if bad:
				log("%s %s: %s" % (name, sc.key, bad))
				live.remove((tool, name, cmd))
				done.remove((tool, name, cmd))
				if tool != "floor":
					row["tools"][tool]["status"] = "failed: " + bad
				continue
			times[name] += res[name]["times"]
			cpu[name].append(res[name]["cpu"])
			if r == 0 and res[name]["median"] > args.slow_cap:
				log("%s took %.0f s: not run again (--slow-cap %d)" %
				    (name, res[name]["median"], args.slow_cap))
				live.remove((tool, name, cmd))
	for tool, name, _ in done:
		stats = summarize(times[name]) if times[name] else {}
		if cpu[name]:
			stats["cpu"] = sum(cpu[name]) / len(cpu[name])
		if tool == "floor":
			row["floors"][name].update(stats)
		else:
			row["tools"][tool].update(stats)


def measure(args, ws, peers, outdir):
	env = bench_env(args)
	cmds = tool_commands(args, peers)
	results = {"scenarios": {}, "order": []}
	try:
		measure_rows(args, ws, peers, outdir, env, cmds, results)
	finally:
		# Always: the Nx daemon must not outlive the run, whatever happened.
		results["daemon"] = daemon_memory(ws, cmds, env)
	return results


def measure_rows(args, ws, peers, outdir, env, cmds, results):
	for sc in scenarios(ws, args):
		if args.scenario and sc.key not in args.scenario:
			continue
		results["order"].append(sc.key)
		row = {"title": sc.title, "tools": {}, "floors": {n: {"cmd": c} for n, c in sc.floors},
		       "slow": sc.slow}
		results["scenarios"][sc.key] = row
		try:
			(measure_slow if sc.slow else measure_fast)(args, ws, sc, row, cmds, env, outdir)
		except RuntimeError as e:
			row["error"] = str(e)
			log("%s: %s" % (sc.key, e))
		for tool in TOOLS:
			if sc.key not in cmds.get(tool, {}):
				row["tools"][tool] = {"status": skip_why(args, peers, tool, sc.key,
									 tool in cmds)}
		if row["tools"]["bld"].get("status") == "ok":
			row["bld_stats"] = bld_stats(ws, sc, row["tools"]["bld"]["cmd"], env)
		if row["tools"].get("bld-daemon", {}).get("status") == "ok":
			row["bld_daemon_stats"] = bld_stats(ws, sc, row["tools"]["bld-daemon"]["cmd"],
							    env)
		if sc.key in ("change", "leaf"):  # the workspace's own file, back to its commit
			run(["git", "checkout", "--", ws.change_file if sc.key == "change"
			     else ws.leaf_file], cwd=ws.root)
		row["daemon_after"] = daemon_rss_now(ws, "nx-daemon" in cmds)


def find_daemon_pids(root):
	"""Processes (not ours) whose working directory is root and whose command line names a
	daemon: how Nx's daemon is found, without asking it."""
	pids = []
	for d in os.listdir("/proc"):
		if not d.isdigit():
			continue
		try:
			if os.readlink("/proc/%s/cwd" % d) != root:
				continue
			with open("/proc/%s/cmdline" % d, "rb") as f:
				cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
		except OSError:
			continue
		if "daemon" in cmd and "nx" in cmd:
			pids.append(int(d))
	return pids


def proc_mem_kb(pid):
	"""(VmRSS, VmHWM) of pid in KB."""
	vals = {}
	with open("/proc/%d/status" % pid) as f:
		for line in f:
			k, _, v = line.partition(":")
			if k in ("VmRSS", "VmHWM"):
				vals[k] = int(v.split()[0])
	return vals.get("VmRSS"), vals.get("VmHWM")


def bld_stats(ws, sc, cmd, env):
	"""One more bld run in the scenario's state with BLD_DEBUG=stats and --verbose: the lines
	that carry figures (timings, counts), not the tasks' own output."""
	e = dict(env, BLD_DEBUG="stats")
	if sc.prepare:
		run(sc.prepare, cwd=ws.root, env=e, shell=True)
	rc, out, err = run(shlex.split(cmd) + ["--verbose"], cwd=ws.root, env=e, timeout=3600)
	if rc == 0 and sc.check(out):
		log("warning: bld %s with BLD_DEBUG=stats: %s" % (sc.key, sc.check(out)))
	lines = [l for l in (err + out).splitlines()
		 if re.search(r"\d ?(ms|us|µs|s)\b|stats|BLD_DEBUG", l) and not l.startswith(">")]
	return {"rc": rc, "lines": lines[:60]}


def bld_daemon_memory(ws, cmds, env):
	"""RSS of bld's daemon (its pid file), then stop it."""
	try:
		with open(ws.path(".bld", "bldd.pid")) as f:
			pid = int(f.read())
		rss, hwm = proc_mem_kb(pid)
		res = {"status": "ok", "pids": [pid], "rss_kb": rss, "hwm_kb": hwm}
	except (OSError, ValueError) as e:
		res = {"status": "no bld daemon found (%s)" % e}
	stop = cmds["bld-daemon"]["list"].replace(" show projects", " daemon stop")
	run(shlex.split(stop), cwd=ws.root, env=env, timeout=120)
	return res


def daemon_memory(ws, cmds, env):
	res = {"bld-daemon": bld_daemon_memory(ws, cmds, env)}
	if "nx-daemon" not in cmds:
		res["nx-daemon"] = {"status": "skipped"}
		return res
	pids = find_daemon_pids(ws.root)
	if not pids:
		res["nx-daemon"] = {"status": "no Nx daemon process found"}
	else:
		rss = hwm = 0
		for pid in pids:
			try:
				r, h = proc_mem_kb(pid)
				rss, hwm = rss + (r or 0), hwm + (h or 0)
			except OSError:
				pass
		res["nx-daemon"] = {"status": "ok", "pids": pids, "rss_kb": rss, "hwm_kb": hwm}
	stop = cmds["nx-daemon"]["list"].replace(" show projects", " daemon --stop")
	run(shlex.split(stop), cwd=ws.root, env=env, timeout=120)
	return res


def skip_why(args, peers, tool, key, runs):
	"""The cell of a tool that has no command in row key (runs: it has in others)."""
	for name, rows, why in skipped_tools(args):
		if name == tool and (rows is None or key in rows):
			return "skipped (%s)" % why
	return "n/a" if runs else "skipped (%s)" % peer_why(peers, tool)


def daemon_rss_now(ws, nx):
	"""{tool: RSS KB} of the daemons running now (after a row): how they grow row by row."""
	res = {}
	try:
		with open(ws.path(".bld", "bldd.pid")) as f:
			res["bld-daemon"] = proc_mem_kb(int(f.read()))[0]
	except (OSError, ValueError):
		pass
	if nx:
		kb = 0
		for pid in find_daemon_pids(ws.root):
			try:
				kb += proc_mem_kb(pid)[0] or 0
			except OSError:
				pass
		if kb:
			res["nx-daemon"] = kb
	return res


class LoadSampler:
	"""/proc/loadavg's 1-minute figure every `every` seconds while the rows run."""

	def __init__(self, every=15):
		self.every, self.samples, self.stop = every, [], threading.Event()
		self.thread = threading.Thread(target=self.loop, daemon=True)

	def loop(self):
		while True:
			try:
				with open("/proc/loadavg") as f:
					self.samples.append(float(f.read().split()[0]))
			except (OSError, ValueError):
				pass
			if self.stop.wait(self.every):
				return

	def summary(self):
		t = sorted(self.samples)
		if not t:
			return {}
		return {"min": t[0], "median": t[len(t) // 2], "max": t[-1], "samples": len(t),
			"every_s": self.every}


def peer_why(peers, tool):
	p = peers.get("turbo" if tool == "turbo" else "nx", {})
	return p.get("why", "not installed")


# ---------------------------------------------------------------- report

def short_status(st):
	"""A table cell for a tool that has no time: its status up to the first reason."""
	if st.startswith("n/a (daemon"):
		return st
	return st.split(" ")[0].split(":")[0]


def fmt_time(s):
	if s is None:
		return "?"
	if s < 1:
		return "%.1f ms" % (s * 1000) if s < 0.1 else "%.0f ms" % (s * 1000)
	return "%.2f s" % s


def table(results):
	head = ["scenario", "floor"] + [TOOL_TITLES[t] for t in TOOLS] + ["best peer ÷ bld",
									     "best peer ÷ bld daemon"]
	lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
	for key in results["order"]:
		row = results["scenarios"][key]
		floors = "; ".join("%s %s" % (n, fmt_time(f.get("median")))
				   for n, f in row["floors"].items())
		bld = row["tools"].get("bld", {}).get("median")
		bldd = row["tools"].get("bld-daemon", {}).get("median")
		cells, best, bestpeer = [], None, None
		for t in TOOLS:
			c = row["tools"].get(t, {})
			if "median" not in c:
				cells.append(short_status(c.get("status", "n/a")))
				continue
			txt = fmt_time(c["median"])
			if row.get("slow") and len(c.get("times", [])) == 1 and results["args"]["runs"] > 1:
				txt += " (1 run)"
			if (t in PEERS or t == "bld-daemon") and bld:
				r = c["median"] / bld
				txt += " (%.2f×)" % r if r >= 0.1 else " (%.3f×)" % r
				if t in PEERS:
					best = r if best is None else min(best, r)
			if t in PEERS:
				bestpeer = c["median"] if bestpeer is None else min(bestpeer, c["median"])
			cells.append(txt)
		lines.append("| " + " | ".join([row["title"], floors] + cells +
					 ["%.2f×" % best if best else "–",
					  "%.1f×" % (bestpeer / bldd) if bestpeer and bldd else "–"])
			     + " |")
	d = results.get("daemon", {})
	def dmem(x):
		return "%.0f MB RSS (peak %.0f MB)" % (x["rss_kb"] / 1024, x["hwm_kb"] / 1024) \
			if x.get("status") == "ok" else x.get("status", "n/a")
	lines.append("| daemon memory (after the runs above) | – | – | %s | – | %s | – | – | – |" %
		     (dmem(d.get("bld-daemon", {})), dmem(d.get("nx-daemon", {}))))
	return "\n".join(lines) + "\n"


def memory_table(results):
	head = ["scenario"] + [TOOL_TITLES[t] for t in TOOLS]
	lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
	for key in results["order"]:
		row = results["scenarios"][key]
		cells = []
		for t in TOOLS:
			kb = row["tools"].get(t, {}).get("peak_rss_kb")
			cells.append("%.1f MB" % (kb / 1024) if kb else "–")
		lines.append("| " + " | ".join([key] + cells) + " |")
	return "\n".join(lines) + "\n"


def cpu_table(results):
	"""Mean user+system CPU seconds: steadier than wall time on a shared, loaded machine."""
	head = ["scenario", "floor"] + [TOOL_TITLES[t] for t in TOOLS]
	lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
	for key in results["order"]:
		row = results["scenarios"][key]
		floors = "; ".join("%s %s" % (n, fmt_time(f.get("cpu")))
				   for n, f in row["floors"].items())
		cells = [fmt_time(row["tools"].get(t, {}).get("cpu")) if "cpu" in
			 row["tools"].get(t, {}) else "–" for t in TOOLS]
		lines.append("| " + " | ".join([key, floors] + cells) + " |")
	return "\n".join(lines) + "\n"


def rebuild(outdir):
	"""Rewrite table.md from results.json, taking CPU times from the raw hyperfine files
	(for results written before the harness recorded them)."""
	with open(os.path.join(outdir, "results.json")) as f:
		results = json.load(f)
	for key, row in results["scenarios"].items():
		names = [f for f in os.listdir(outdir) if f.startswith("hyperfine-%s" % key)]
		cpu = {}
		for fn in names:
			with open(os.path.join(outdir, fn)) as f:
				for r in json.load(f)["results"]:
					cpu.setdefault(r["command"], []).append(r["user"] + r["system"])
		def fill(cell, name):
			n = name if name in cpu else next((c for c in cpu if c.endswith(name)), None)
			if n and "median" in cell and "cpu" not in cell:
				cell["cpu"] = sum(cpu[n]) / len(cpu[n])
		for name, cell in row["floors"].items():
			fill(cell, "floor: " + name if not row.get("slow") else name)
		for tool, cell in row["tools"].items():
			fill(cell, TOOL_TITLES[tool])
	with open(os.path.join(outdir, "results.json"), "w") as f:
		json.dump(results, f, indent=2)
	print(report(results, outdir))
	return 0


def bld_source_dir(bld):
	"""The source tree bld was built from: meson's build folder names it (a build folder
	outside the repository, as the reproduce commands make, has no git of its own)."""
	build = os.path.dirname(os.path.dirname(os.path.abspath(bld)))
	try:
		with open(os.path.join(build, "meson-info", "meson-info.json")) as f:
			return json.load(f)["directories"]["source"]
	except (OSError, ValueError, KeyError):
		return os.path.dirname(bld)


def machine(args, peers):
	def out(cmd):
		rc, o, _ = run(cmd, shell=True)
		return o.strip() if rc == 0 else "?"
	mem_kb = int(out("awk '/MemTotal/{print $2}' /proc/meminfo") or 0)
	src = bld_source_dir(args.bld)	# the commit the measured binary was built from
	return {
		"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
		"nproc": os.cpu_count(),
		"cpu": out("lscpu | sed -n 's/^Model name: *//p'"),
		"memory_gb": round(mem_kb / 1024 / 1024, 1),
		"kernel": platform.release(),
		"loadavg": out("cat /proc/loadavg"),
		"bld": out("%s --version" % shlex.quote(args.bld)),
		"bld_commit": out("git -C %s describe --always --dirty" % shlex.quote(src)),
		"nx": NX_VERSION if peers.get("nx", {}).get("ok") else "skipped",
		"turbo": TURBO_VERSION if peers.get("turbo", {}).get("ok") else "skipped",
		"node": out("node --version"),
		"npm": out("npm --version"),
		"hyperfine": out("hyperfine --version"),
		"git": out("git --version"),
	}


def load_text(ld):
	if not ld:
		return "not sampled"
	return "median %.1f, min %.1f, max %.1f (%d samples, every %d s)" % (
		ld["median"], ld["min"], ld["max"], ld["samples"], ld["every_s"])


def daemon_rows(results):
	"""Daemon RSS after each row (bld's daemon, Nx's daemon)."""
	lines = ["| after row | bld daemon RSS | Nx daemon RSS |", "|---|---|---|"]
	for key in results["order"]:
		d = results["scenarios"][key].get("daemon_after", {})
		lines.append("| %s | %s | %s |" % (key, *("%.1f MB" % (d[t] / 1024) if d.get(t)
							  else "–" for t in ("bld-daemon",
									      "nx-daemon"))))
	return "\n".join(lines) + "\n"


def report(results, outdir):
	m = results["machine"]
	a = results["args"]
	txt = ["## Results (%s)" % m["date"], "",
	       "Machine: %s cores, %s, %s GB RAM, Linux %s; load at start %s." %
	       (m["nproc"], m["cpu"], m["memory_gb"], m["kernel"], m["loadavg"]),
	       "Versions: %s (commit %s), Nx %s, Turborepo %s, node %s, %s." %
	       (m["bld"], m["bld_commit"], m["nx"], m["turbo"], m["node"], m["hyperfine"]),
	       "Workspace: %d projects, %d dependency edges, seed %d; hyperfine --runs %d "
	       "--warmup %d (slow rows: --runs %d --warmup 0); --parallel %d for every tool." %
	       (a["projects"], results["edges"], a["seed"], a["runs"], a["warmup"],
		max(1, min(a["runs"], a["slow_runs"])), a["parallel"]), "",
	       "Load average (1 min) during the rows: %s." % load_text(results.get("load", {})), "",
	       "Medians; in brackets each peer's (and bld daemon's) time ÷ bld one-shot's (above 1: "
	       "bld one-shot is faster); the last column is the best peer's median ÷ bld daemon's.",
	       "",
	       table(results), "CPU time (user + system, mean of the runs; the machine is shared, "
	       "so this is steadier than wall time):", "", cpu_table(results), "Peak RSS of each tool's process tree (largest process, "
	       "/usr/bin/time, first run of each scenario):", "", memory_table(results)]
	txt += ["Daemon RSS (/proc VmRSS) after each row:", "", daemon_rows(results)]
	stats = []
	for key in results["order"]:
		for k, who in (("bld_stats", ""), ("bld_daemon_stats", " (daemon)")):
			lines = results["scenarios"][key].get(k, {}).get("lines")
			if lines:
				stats.append("- %s%s: %s" % (key, who, "; ".join(" ".join(l.split())
										    for l in lines)))
	if stats:
		txt += ["bld's own figures (one more run with `BLD_DEBUG=stats --verbose`):", ""]
		txt += stats + [""]
	notes = []
	for key in results["order"]:
		for t, c in results["scenarios"][key]["tools"].items():
			if c.get("status", "ok") != "ok":
				notes.append("- %s / %s: %s" % (key, TOOL_TITLES[t], c["status"]))
	if notes:
		txt += ["Notes:", ""] + notes + [""]
	text = "\n".join(txt)
	with open(os.path.join(outdir, "table.md"), "w") as f:
		f.write(text)
	return text


# ---------------------------------------------------------------- profiling

def profile(args, ws):
	"""Bring ws to the scenario's state with one bld run, then run bld under the profiler."""
	env = bench_env(args)
	cmds = tool_commands(args, {})["bld"]
	sc = {s.key: s for s in scenarios(ws, args)}[args.scenario[0]]
	cmd = shlex.split(cmds[sc.key].format(**ws.fmt))
	out = args.out
	if sc.key not in ("list", "affected", "affected-inputs"):
		run(shlex.split(cmds["cached"]), cwd=ws.root, env=env, timeout=3600)
	if sc.prepare:
		run(sc.prepare, cwd=ws.root, env=env, shell=True)
	if args.profile == "perf-stat":
		prof = ["perf", "stat", "-d", "-o", out + "/perf-stat.txt", "--"]
	elif args.profile == "perf-record":
		prof = ["perf", "record", "-F", str(args.perf_freq), "--call-graph", "dwarf,16384",
			"-o", out + "/perf.data", "--"]
	else:
		prof = ["valgrind", "--tool=callgrind", "--trace-children=yes",
			"--trace-children-skip=*/sh,*/cat,*/mkdir,*/git",
			"--callgrind-out-file=%s/callgrind.%%p" % out, "--"]
	env["BLD_DEBUG"] = "stats"
	log("profiling: " + " ".join(prof + cmd))
	rc, stdout, err = run(prof + cmd, cwd=ws.root, env=env, timeout=3600)
	with open(os.path.join(out, "profile-stderr.txt"), "w") as f:
		f.write(err)
	if args.profile == "perf-record":
		# Flat (self time by process, library, symbol), then inclusive time by symbol: the
		# call chains come from DWARF unwinding, so the release build needs no frame pointers.
		_, flat, _ = run("perf report -i %s/perf.data --stdio --no-children -g none "
				 "--sort comm,dso,symbol --percent-limit 1 2>/dev/null | grep -v '^$'"
				 % out, shell=True)
		_, incl, _ = run("perf report -i %s/perf.data --stdio --children -g none "
				 "--sort comm,symbol --percent-limit 2 2>/dev/null | grep -v '^$\\|^#'"
				 " | head -80" % out, shell=True)
		rep = "== self time\n" + flat + "\n== inclusive time (with callees)\n" + incl
		name = "perf-report.txt"
	elif args.profile == "callgrind":
		_, rep, _ = run("for f in %s/callgrind.*; do echo \"== $f\"; callgrind_annotate $f "
				"| head -45; done" % out, shell=True)
		name = "callgrind-report.txt"
	else:
		with open(os.path.join(out, "perf-stat.txt")) as f:
			rep = f.read()
		name = "perf-stat.txt"
	with open(os.path.join(out, name), "w") as f:
		f.write(rep)
	print(rep)
	print("bench: bld exit %d; BLD_DEBUG=stats output in %s/profile-stderr.txt; report in %s/%s"
	      % (rc, out, out, name))
	return 0 if rc == 0 else 1


# ---------------------------------------------------------------- main

def parse_args():
	ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	ap.add_argument("--bld", help="the bld client binary (required)")
	ap.add_argument("--bldd", help="the bldd engine binary (required)")
	ap.add_argument("--rebuild", metavar="OUTDIR",
			help="only rewrite OUTDIR/table.md from its results.json")
	ap.add_argument("--projects", "-n", type=int, default=1000)
	ap.add_argument("--seed", type=int, default=1)
	ap.add_argument("--runs", type=int, default=5)
	ap.add_argument("--warmup", type=int, default=1)
	ap.add_argument("--slow-runs", type=int, default=3,
			help="rounds for the cold and change rows (no warmup)")
	ap.add_argument("--slow-cap", type=int, default=300,
			help="seconds: a slow-row command whose first run took longer runs only once")
	ap.add_argument("--parallel", type=int, default=os.cpu_count(),
			help="--parallel/--concurrency given to every tool")
	ap.add_argument("--affected-files", type=int, default=100)
	ap.add_argument("--scenario", action="append", help="only these scenarios (repeatable)")
	# one folder per checkout: two checkouts benchmarking at once must not share (genws --force)
	ap.add_argument("--workdir", default="/tmp/bld-bench-%08x" % (zlib.crc32(HERE.encode())),
			help="where the workspace is generated (default: one folder per checkout)")
	ap.add_argument("--peers-dir", default="/tmp/bld-bench-peers")
	ap.add_argument("--no-peers", action="store_true", help="bld only")
	ap.add_argument("--npm-timeout", type=int, default=180)
	ap.add_argument("--skip-tool", action="append", default=[], metavar="TOOL[:ROW,..]=WHY",
			help="leave a column out (of some rows only), with WHY as its note "
			"(e.g. turbo:cached,single-deps,leaf=... at 10,000)")
	ap.add_argument("--row-timeout", type=int, default=3600,
			help="seconds one hyperfine call or first run may take")
	ap.add_argument("--reuse", action="store_true", help="reuse a generated workspace")
	ap.add_argument("--out", help="results folder (default bench/out/<date>)")
	ap.add_argument("--smoke", action="store_true",
			help="N=10, one run, fail when a core bld scenario fails (CI)")
	ap.add_argument("--profile", choices=["perf-stat", "perf-record", "callgrind"])
	ap.add_argument("--perf-freq", type=int, default=2000, help="perf record -F")
	a = ap.parse_args()
	if a.rebuild:
		return a
	if not a.bld or not a.bldd:
		ap.error("--bld and --bldd are required")
	a.bld, a.bldd = os.path.abspath(a.bld), os.path.abspath(a.bldd)
	if a.smoke:
		a.projects, a.runs, a.warmup, a.slow_runs = 10, 1, 0, 1
		a.affected_files = min(a.affected_files, 10)
	if not a.out:
		a.out = os.path.join(HERE, "out", time.strftime("%Y%m%d-%H%M%S"))
	a.out = os.path.abspath(a.out)
	if a.projects > 2000 and not a.scenario:
		# no cold build or restore of every project: the cached rows' first runs build
		a.scenario = ["list", "cached", "single-deps", "leaf"]
	global HYPERFINE_TIMEOUT
	HYPERFINE_TIMEOUT = a.row_timeout
	if a.profile and (not a.scenario or len(a.scenario) != 1):
		ap.error("--profile needs exactly one --scenario")
	return a


def main():
	args = parse_args()
	if args.rebuild:
		return rebuild(args.rebuild)
	os.makedirs(args.out, exist_ok=True)
	for tool in ("hyperfine", "/usr/bin/time", "git"):
		if not shutil.which(tool):
			sys.exit("bench: %s is missing (apt-get install -y hyperfine time git)" % tool)
	for b in (args.bld, args.bldd):
		if not os.access(b, os.X_OK):
			sys.exit("bench: %s is not an executable" % b)
	ws = generate(args)
	if args.profile:
		return profile(args, ws)
	if args.no_peers:
		peers = {"nx": {"ok": False, "why": "--no-peers"}, "turbo": {"ok": False,
									 "why": "--no-peers"}}
	else:
		peers = ensure_peers(args.peers_dir, args.npm_timeout)
	for p in ("nx", "turbo"):
		if not peers[p]["ok"]:
			log("skipping %s: %s" % (p, peers[p]["why"]))
	nm = ws.path("node_modules")
	if peers.get("nx", {}).get("ok") and not os.path.lexists(nm):
		os.symlink(os.path.join(args.peers_dir, "node_modules"), nm)
	nfiles, affected = make_affected_commit(ws, args.affected_files, args.seed)
	ws.affected = affected
	log("affected scenario: %d files changed, %d projects affected" % (nfiles, len(affected)))
	results = {"args": vars(args), "machine": machine(args, peers),
		   "edges": ws.meta["edges"], "workspace": ws.root,
		   "peers": {k: v for k, v in peers.items() if k != "bins"},
		   "change_project": ws.change, "change_set": len(ws.change_set),
		   "affected_expected": len(affected)}
	t0 = time.time()
	load = LoadSampler()
	load.thread.start()
	try:
		results.update(measure(args, ws, peers, args.out))
	finally:
		load.stop.set()
	results["load"] = load.summary()
	results["elapsed_s"] = round(time.time() - t0, 1)
	results["machine"]["loadavg_end"] = machine(args, peers)["loadavg"]
	with open(os.path.join(args.out, "results.json"), "w") as f:
		json.dump(results, f, indent=2)
	print(report(results, args.out))
	log("done in %.0f s; results in %s" % (results["elapsed_s"], args.out))
	if args.smoke:
		bad = [k for k in CORE if k in results["scenarios"] and
		       results["scenarios"][k]["tools"]["bld"].get("status") != "ok"]
		bad += [k for k in results["order"] if results["scenarios"][k].get("error")]
		if bad:
			print("bench smoke: bld failed in: " + ", ".join(bad))
			print("0 passed, 1 failed")
			return 1
		print("1 passed, 0 failed")
	return 0


if __name__ == "__main__":
	sys.exit(main())
