/* test_engine_sched.c - the scheduler: order, slots, failures, bail, continuous tasks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler.h"

/* A hand-built task graph: n tasks, edges "a waits for b" given as pairs. */
struct fake {
	struct task_graph tg;
	struct task t[16];
};

static void fake_init(struct fake *f, size_t n, const int (*edges)[2], size_t nedges)
{
	memset(f, 0, sizeof(*f));
	f->tg.tasks = f->t;
	f->tg.ntasks = n;
	for (size_t i = 0; i < n; i++) {
		f->t[i].deps = calloc(16, sizeof(int));
		f->t[i].rdeps = calloc(16, sizeof(int));
		f->t[i].requested = true;
	}
	for (size_t e = 0; e < nedges; e++) {
		int a = edges[e][0], b = edges[e][1];
		f->t[a].deps[f->t[a].ndeps++] = b;
		f->t[b].rdeps[f->t[b].nrdeps++] = a;
	}
}

static void fake_release(struct fake *f)
{
	for (size_t i = 0; i < f->tg.ntasks; i++) {
		free(f->t[i].deps);
		free(f->t[i].rdeps);
	}
}

/* Pop every ready task into the slot queue; return the next runnable, or -1. */
static int next(struct sched *s)
{
	int i;
	while ((i = sched_pop_ready(s)) >= 0)
		sched_enqueue(s, i);
	return sched_pop_runnable(s);
}

static void chain_runs_in_dependency_order(void **state)
{
	/* 0 waits for 1, 1 waits for 2 */
	const int edges[][2] = {{0, 1}, {1, 2}};
	struct fake f;
	fake_init(&f, 3, edges, 2);
	struct sched s;
	sched_init(&s, &f.tg, 4, false);
	for (int want = 2; want >= 0; want--) {
		assert_int_equal(next(&s), want);
		assert_int_equal(next(&s), -1);
		assert_false(sched_done(&s));
		sched_finish(&s, want, true);
	}
	assert_true(sched_done(&s));
	sched_release(&s);
	fake_release(&f);
}

static void longest_remaining_path_starts_first(void **state)
{
	/* 0 <- 1 <- 2 is a chain of three; 3 stands alone; one slot */
	const int edges[][2] = {{0, 1}, {1, 2}};
	struct fake f;
	fake_init(&f, 4, edges, 2);
	struct sched s;
	sched_init(&s, &f.tg, 1, false);
	assert_int_equal(next(&s), 2);
	assert_int_equal(next(&s), -1); /* one slot */
	sched_finish(&s, 2, true);
	assert_int_equal(next(&s), 1);
	sched_finish(&s, 1, true);
	assert_int_equal(next(&s), 0);
	sched_finish(&s, 0, true);
	assert_int_equal(next(&s), 3);
	sched_finish(&s, 3, true);
	assert_true(sched_done(&s));
	sched_release(&s);
	fake_release(&f);
}

static void parallel_bounds_running_tasks(void **state)
{
	struct fake f;
	fake_init(&f, 5, NULL, 0);
	struct sched s;
	sched_init(&s, &f.tg, 2, false);
	int a = next(&s), b = next(&s);
	assert_true(a >= 0 && b >= 0);
	assert_int_equal(next(&s), -1);
	sched_finish(&s, a, true);
	assert_true(next(&s) >= 0);
	sched_release(&s);
	fake_release(&f);
}

static void failure_skips_dependents_not_independent_work(void **state)
{
	/* 0 waits for 1; 2 waits for 0; 3 independent */
	const int edges[][2] = {{0, 1}, {2, 0}};
	struct fake f;
	fake_init(&f, 4, edges, 2);
	struct sched s;
	sched_init(&s, &f.tg, 1, false);
	assert_int_equal(next(&s), 1);
	sched_finish(&s, 1, false);
	int got[2] = {sched_pop_skipped(&s), sched_pop_skipped(&s)};
	assert_int_equal(got[0] + got[1], 2); /* 0 and 2 */
	assert_int_equal(sched_pop_skipped(&s), -1);
	assert_int_equal(next(&s), 3);
	sched_finish(&s, 3, true);
	assert_true(sched_done(&s));
	assert_int_equal(s.failed, 1);
	sched_release(&s);
	fake_release(&f);
}

static void bail_starts_nothing_after_a_failure(void **state)
{
	struct fake f;
	fake_init(&f, 3, NULL, 0);
	struct sched s;
	sched_init(&s, &f.tg, 1, true);
	int first = next(&s);
	sched_finish(&s, first, false);
	assert_int_equal(next(&s), -1);
	assert_true(sched_done(&s));
	int n = 0;
	while (sched_pop_skipped(&s) >= 0)
		n++;
	assert_int_equal(n, 2);
	sched_release(&s);
	fake_release(&f);
}

static void continuous_dependency_releases_dependents_once_up(void **state)
{
	/* 0 (e2e) waits for 1 (serve, continuous, not requested) */
	const int edges[][2] = {{0, 1}};
	struct fake f;
	fake_init(&f, 2, edges, 1);
	f.t[1].continuous = true;
	f.t[1].requested = false;
	struct sched s;
	sched_init(&s, &f.tg, 1, false);
	assert_int_equal(sched_pop_ready(&s), 1);
	sched_start_noslot(&s, 1);
	assert_int_equal(sched_pop_ready(&s), -1);
	sched_task_up(&s, 1);
	assert_int_equal(next(&s), 0); /* the serve task holds no slot */
	sched_finish(&s, 0, true);
	assert_true(sched_done(&s)); /* the run does not wait for a continuous dependency */
	sched_release(&s);
	fake_release(&f);
}

static void stop_skips_what_has_not_started(void **state)
{
	struct fake f;
	fake_init(&f, 3, NULL, 0);
	struct sched s;
	sched_init(&s, &f.tg, 1, false);
	int a = next(&s);
	sched_stop(&s);
	assert_false(sched_done(&s)); /* a still runs */
	sched_finish(&s, a, false);
	assert_true(sched_done(&s));
	sched_release(&s);
	fake_release(&f);
}

/* Ready tasks are handed out only while fewer than s.ahead are PREPARING or
 * QUEUED: a wide graph is not prepared (manifests, task locks) all at once. */
static void preparing_looks_ahead_a_bounded_number_of_tasks(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 10, NULL, 0);
	struct sched s;
	sched_init(&s, &f.tg, 1, false);
	s.ahead = 3;
	int p[3];
	for (int k = 0; k < 3; k++) {
		p[k] = sched_pop_ready(&s);
		assert_true(p[k] >= 0);
		sched_prepare(&s, p[k]);
	}
	assert_int_equal(sched_pop_ready(&s), -1);
	sched_enqueue(&s, p[0]);                /* a miss waits for the slot: still ahead */
	assert_int_equal(sched_pop_ready(&s), -1);
	assert_int_equal(sched_pop_runnable(&s), p[0]);   /* running: one more may come */
	int q = sched_pop_ready(&s);
	assert_true(q >= 0);
	sched_prepare(&s, q);
	assert_int_equal(sched_pop_ready(&s), -1);
	sched_start_noslot(&s, p[1]);           /* a hit */
	int r = sched_pop_ready(&s);
	assert_true(r >= 0);
	sched_prepare(&s, r);
	sched_abandon(&s, p[2]);
	assert_true(sched_pop_ready(&s) >= 0);
	assert_int_equal(s.ahead_now, 2); /* q and r */
	sched_release(&s);
	fake_release(&f);
}

static void preparing_tasks_hold_the_run_and_can_be_abandoned(void **state)
{
	struct fake f;
	fake_init(&f, 2, NULL, 0);
	struct sched s;
	sched_init(&s, &f.tg, 1, false);
	int a = sched_pop_ready(&s), b = sched_pop_ready(&s);
	sched_prepare(&s, a);
	sched_prepare(&s, b);
	sched_enqueue(&s, a); /* a cache miss: it needs a slot */
	assert_int_equal(sched_pop_runnable(&s), a);
	sched_stop(&s);
	assert_false(sched_done(&s)); /* a runs, b is still being prepared */
	sched_abandon(&s, b);
	assert_int_equal(sched_pop_skipped(&s), b);
	sched_finish(&s, a, false);
	assert_true(sched_done(&s));
	assert_int_equal(s.active, 0);
	assert_int_equal(s.running, 0);
	sched_release(&s);
	fake_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(chain_runs_in_dependency_order),
	    cmocka_unit_test(longest_remaining_path_starts_first),
	    cmocka_unit_test(parallel_bounds_running_tasks),
	    cmocka_unit_test(failure_skips_dependents_not_independent_work),
	    cmocka_unit_test(bail_starts_nothing_after_a_failure),
	    cmocka_unit_test(continuous_dependency_releases_dependents_once_up),
	    cmocka_unit_test(stop_skips_what_has_not_started),
	    cmocka_unit_test(preparing_tasks_hold_the_run_and_can_be_abandoned),
	    cmocka_unit_test(preparing_looks_ahead_a_bounded_number_of_tasks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
