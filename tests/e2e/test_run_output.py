"""Output of tasks running at once: every line carries its task id before the text, and
lines never interleave mid-line, even when a task writes half a line and pauses.
"""

import re

from conftest import log

N = 50


def chatty(mark):
    # Each line is written in two pieces with a pause between them.
    return (f"i=1; while [ $i -le {N} ]; do printf '{mark}-%s-' $i; sleep 0.01; "
            f"printf 'end\\n'; i=$((i+1)); done")


def test_parallel_lines_prefixed_and_whole(make_ws):
    ws = make_ws({
        'nx.json': {},
        'pa/project.json': {'name': 'pa', 'targets': {'build': {'command': chatty('aaaa')}}},
        'pb/project.json': {'name': 'pb', 'targets': {'build': {'command': chatty('bbbb')}}},
    })
    r = ws.run('run-many', '-t', 'build', '--parallel', '2')
    assert r.code == 0, r
    for task, mark, other in (('pa:build', 'aaaa', 'bbbb'), ('pb:build', 'bbbb', 'aaaa')):
        nums = []
        for stream in (r.out, r.err):
            for line in stream.splitlines():
                if mark not in line:
                    continue
                assert other not in line, f'interleaved line: {line!r}\n{r!r}'
                m = re.search(rf'{re.escape(mark)}-(\d+)-end$', line)
                assert m, f'broken line: {line!r}\n{r!r}'
                assert task in line[:line.index(mark)], f'no {task} prefix: {line!r}'
                nums.append(int(m.group(1)))
        assert nums == list(range(1, N + 1)), f'{task}: {nums}\n{r!r}'


def test_stderr_of_a_task_is_shown(make_ws):
    ws = make_ws({
        'nx.json': {},
        'a/project.json': {'name': 'a', 'targets': {'build': {
            'command': f"echo to-stderr-123 >&2; {log('a')}"}}},
    })
    r = ws.run('run', 'a:build')
    assert r.code == 0, r
    assert 'to-stderr-123' in r.both, r
    assert ws.ran() == ['a']


def test_single_task_output_bytes_intact(make_ws):
    # A lone task's output reaches the user whole (utf-8 and long lines included).
    long_line = 'x' * 5000
    ws = make_ws({
        'nx.json': {},
        'a/project.json': {'name': 'a', 'targets': {'build': {
            'command': f"printf 'héllo wörld ✓\\n{long_line}\\nno-newline-at-end'"}}},
    })
    r = ws.run('run', 'a:build')
    assert r.code == 0, r
    assert 'héllo wörld ✓' in r.out, r
    assert long_line in r.out
    assert 'no-newline-at-end' in r.out


def read_until(stream, marker, timeout):
    """Read a pipe in a thread; True once marker shows up within timeout seconds."""
    import threading
    seen = threading.Event()
    buf = bytearray()

    def pump():
        while True:
            chunk = stream.read1(4096) if hasattr(stream, 'read1') else stream.read(1)
            if not chunk:
                return
            buf.extend(chunk)
            if marker in buf:
                seen.set()

    threading.Thread(target=pump, daemon=True).start()
    return seen.wait(timeout), buf


def test_output_streams_while_the_task_runs(make_ws):
    for args in (['run', 'a:build'], ['run-many', '-t', 'build', '--parallel', '2']):
        ws = make_ws({
            'nx.json': {},
            'a/project.json': {'name': 'a', 'targets': {'build': {
                'command': f"echo early-marker-a; sleep 4; {log('a done')}"}}},
            'b/project.json': {'name': 'b', 'targets': {'build': {
                'command': f"echo early-marker-b; sleep 4; {log('b done')}"}}},
        })
        proc = ws.spawn(*args)
        seen, buf = read_until(proc.stdout, b'early-marker-a', timeout=3)
        assert seen, f'{args}: nothing streamed within 3 s of a 4 s task: {bytes(buf)!r}'
        assert 'a done' not in ws.ran(), 'the marker came before the task ended'
        proc.wait(30)
        assert proc.returncode == 0


def test_tasks_ready_together_are_prepared_in_one_pool_trip(make_ws):
    """Tasks that become ready at once are hashed and looked up in one trip to the
    engine's thread pool, so they start in the same loop iteration: one task's first
    output is never streamed alone, unprefixed, before the others have started."""
    ws = make_ws({
        'nx.json': {},
        **{f'p{i}/project.json': {'name': f'p{i}', 'targets': {'build': {
            'command': log(f'p{i}')}}} for i in range(4)},
    })
    r = ws.run('run-many', '-t', 'build', '--parallel', '4', env={'BLD_DEBUG': 'stats'})
    assert r.code == 0 and sorted(ws.ran()) == ['p0', 'p1', 'p2', 'p3'], r
    trips = re.search(r'(\d+) pool trips, (\d+) preparing tasks', r.both)
    assert trips and int(trips.group(2)) == 1, r
