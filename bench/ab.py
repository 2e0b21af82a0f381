#!/usr/bin/python3
"""Two bld builds' warm daemons side by side (docs/benchmarks.md): each on its own copy of
one generated workspace (its own daemon and cache), requests interleaved A, B, B, A, ... so
both see the same minutes of a shared machine.  Per scenario: the client's wall time
(median, min) and the daemon's CPU per request (user + system from /proc/<pid>/stat over
all the requests, steadier than wall time under load), and the daemon's RSS after.

    bench/ab.py --build main=/tmp/main/build-rel --build new=build-rel -n 1000 --iterations 30

Scenarios (as compare.py's): cached (`run-many -t build`, all hits), single-deps (the last
project's build with its dependencies), leaf (the last project's source edited, then
`run-many`: one task reruns).  Each starts with three unmeasured requests, so a daemon that
checks something once (a vouch, a memo) is measured warm.  Standard library only.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")


def run(build, ws, *args):
	"""One bld request through ws's daemon; its wall time in seconds."""
	env = dict(os.environ, BLDD=os.path.join(build, "daemon/bldd"))
	env["BLD_DAEMON"] = "1"  # even where CI=true would make it one-shot
	t = time.perf_counter()
	p = subprocess.run([os.path.join(build, "client/bld"), *args], cwd=ws, env=env,
			   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
	if p.returncode:
		sys.exit("ab: %s in %s failed: %s" % (" ".join(args), ws, p.stderr.decode()[-500:]))
	return time.perf_counter() - t


def daemon(ws):
	"""(pid, CPU seconds so far, RSS MB) of ws's daemon."""
	pid = int(open(os.path.join(ws, ".bld/bldd.pid")).read())
	f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
	rss = 0
	for line in open("/proc/%d/status" % pid):
		if line.startswith("VmRSS"):
			rss = int(line.split()[1]) / 1024
	return pid, (int(f[11]) + int(f[12])) / TICK, rss


def workspace(args, name, build):
	"""name's copy of the generated workspace, generated and built on first use."""
	ws = os.path.join(args.workdir, name, "ws%d" % args.projects)
	if not os.path.exists(os.path.join(ws, "bench-meta.json")):
		subprocess.run([sys.executable, os.path.join(HERE, "genws.py"), "-n",
				str(args.projects), "--out", ws, "--seed", str(args.seed), "--force"],
			       check=True, stdout=subprocess.DEVNULL)
	run(build, ws, "run-many", "-t", "build")
	return ws


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("--build", action="append", required=True, metavar="NAME=MESON_BUILD_DIR",
			help="twice: the two builds (release builds, each with client/bld, daemon/bldd)")
	ap.add_argument("--projects", "-n", type=int, default=1000)
	ap.add_argument("--seed", type=int, default=1)
	ap.add_argument("--iterations", type=int, default=30)
	ap.add_argument("--scenario", action="append", choices=["cached", "single-deps", "leaf"])
	ap.add_argument("--workdir", default="/tmp/bld-ab")
	args = ap.parse_args()
	builds = {k: os.path.abspath(b) for k, b in (b.split("=", 1) for b in args.build)}
	if len(builds) != 2:
		ap.error("--build twice, with two names")
	wss = {k: workspace(args, k, b) for k, b in builds.items()}
	meta = json.load(open(os.path.join(next(iter(wss.values())), "bench-meta.json")))
	leaf = meta["topo"][-1]
	cmds = {"cached": ["run-many", "-t", "build"], "single-deps": ["run", leaf + ":build"],
		"leaf": ["run-many", "-t", "build"]}
	print("%d projects, %d interleaved requests per build and scenario; load %s" %
	      (args.projects, args.iterations, open("/proc/loadavg").read().strip()), flush=True)
	for s in args.scenario or list(cmds):
		for k in builds:
			for _ in range(3):
				run(builds[k], wss[k], *cmds[s])
		walls = {k: [] for k in builds}
		cpu0 = {k: daemon(wss[k])[1] for k in builds}
		for i in range(args.iterations):
			for k in (list(builds) if i % 2 == 0 else list(builds)[::-1]):
				if s == "leaf":
					with open(os.path.join(wss[k], "packages", leaf, "src/lib0.ts"), "a") as f:
						f.write("// %d\n" % time.time_ns())
				walls[k].append(run(builds[k], wss[k], *cmds[s]))
		for k in builds:
			_, cpu, rss = daemon(wss[k])
			print("%-12s %-8s wall median %8.1f ms (min %7.1f)  daemon CPU %7.1f ms/request"
			      "  RSS %.1f MB" % (s, k, statistics.median(walls[k]) * 1e3,
						min(walls[k]) * 1e3, (cpu - cpu0[k]) / args.iterations * 1e3, rss),
			      flush=True)
	print("load after: %s" % open("/proc/loadavg").read().strip())
	for k in builds:
		run(builds[k], wss[k], "daemon", "stop")


if __name__ == "__main__":
	main()
