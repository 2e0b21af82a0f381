/* test_engine_vouch.c - the table of vouched-for cache entries: pending, granted,
 * dropped by a change at, above or below a root, replaced, cleared. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vouch.h"

static struct vouch_id id_of(const char *hash, int64_t created)
{
	struct vouch_id id = {.created = created, .size = 10, .duration_ms = 5, .terminal_len = 3};
	snprintf(id.hash, sizeof(id.hash), "%s", hash);
	return id;
}

/* A granted vouch of hash over the roots (NULL-terminated). */
static void vouch(struct vouches *v, const char *hash, ...)
{
	struct strvec roots;
	strvec_init(&roots);
	va_list ap;
	va_start(ap, hash);
	for (const char *r; (r = va_arg(ap, const char *));)
		strvec_push(&roots, r);
	va_end(ap);
	struct vouch_id id = id_of(hash, 1);
	uint64_t token = vouches_begin(v, &id, &roots);
	assert_true(token != 0);
	assert_false(vouches_holds(v, &id)); /* pending: not yet */
	assert_true(vouches_grant(v, hash, token));
	strvec_release(&roots);
}

static bool holds(struct vouches *v, const char *hash)
{
	struct vouch_id id = id_of(hash, 1);
	return vouches_holds(v, &id);
}

static void a_granted_vouch_holds_for_that_entry_only(void **state)
{
	(void)state;
	struct vouches *v = vouches_new();
	vouch(v, "h1", "dist/a", NULL);
	assert_true(holds(v, "h1"));
	assert_false(holds(v, "h2"));
	struct vouch_id again = id_of("h1", 2); /* pruned and stored again: another entry */
	assert_false(vouches_holds(v, &again));
	assert_int_equal(vouches_count(v), 1);
	vouches_free(v);
}

static void a_change_at_or_below_a_root_drops_it(void **state)
{
	(void)state;
	struct vouches *v = vouches_new();
	vouch(v, "h1", "dist/a", NULL);
	vouch(v, "h2", "dist/b", NULL);
	assert_int_equal(vouches_touch(v, "dist/a/sub/x.txt"), 1);
	assert_false(holds(v, "h1"));
	assert_true(holds(v, "h2"));
	assert_int_equal(vouches_touch(v, "dist/b"), 1);
	assert_false(holds(v, "h2"));
	vouches_free(v);
}

static void a_change_above_a_root_drops_every_root_below_it(void **state)
{
	(void)state;
	struct vouches *v = vouches_new();
	vouch(v, "h1", "dist/packages/a", NULL);
	vouch(v, "h2", "dist/packages/b", NULL);
	vouch(v, "h3", "build/c", NULL);
	assert_int_equal(vouches_touch(v, "dist"), 2); /* dist/ removed or renamed */
	assert_false(holds(v, "h1"));
	assert_false(holds(v, "h2"));
	assert_true(holds(v, "h3"));
	assert_int_equal(vouches_touch(v, ""), 1); /* the root's own event */
	assert_int_equal(vouches_count(v), 0);
	vouches_free(v);
}

static void siblings_and_lookalike_names_keep_it(void **state)
{
	(void)state;
	struct vouches *v = vouches_new();
	vouch(v, "h1", "dist/a", NULL);
	assert_int_equal(vouches_touch(v, "dist/ab"), 0);
	assert_int_equal(vouches_touch(v, "dist/a-b/x"), 0);
	assert_int_equal(vouches_touch(v, "dist/b/x"), 0);
	assert_int_equal(vouches_touch(v, "src/a/x.ts"), 0);
	assert_true(holds(v, "h1"));
	vouches_free(v);
}

static void a_change_during_the_check_wins_over_the_grant(void **state)
{
	(void)state;
	struct vouches *v = vouches_new();
	struct strvec roots;
	strvec_init(&roots);
	strvec_push(&roots, "dist/a");
	struct vouch_id id = id_of("h1", 1);
	uint64_t token = vouches_begin(v, &id, &roots);
	vouches_touch(v, "dist/a/x"); /* read by the loop while the pool checked */
	assert_false(vouches_grant(v, "h1", token));
	assert_false(vouches_holds(v, &id));
	/* a newer check of the same entry: the old token grants nothing */
	uint64_t t2 = vouches_begin(v, &id, &roots);
	uint64_t t3 = vouches_begin(v, &id, &roots);
	assert_false(vouches_grant(v, "h1", t2));
	assert_true(vouches_grant(v, "h1", t3));
	vouches_cancel(v, "h1", t2); /* not its own: nothing */
	assert_true(vouches_holds(v, &id));
	strvec_release(&roots);
	vouches_free(v);
}

static void a_cancelled_check_vouches_for_nothing(void **state)
{
	(void)state;
	struct vouches *v = vouches_new();
	struct strvec roots;
	strvec_init(&roots);
	strvec_push(&roots, "dist/a");
	struct vouch_id id = id_of("h1", 1);
	uint64_t token = vouches_begin(v, &id, &roots);
	vouches_cancel(v, "h1", token);
	assert_false(vouches_grant(v, "h1", token));
	assert_false(vouches_holds(v, &id));
	strvec_release(&roots);
	vouches_free(v);
}

static void another_entry_over_the_same_root_replaces_it(void **state)
{
	(void)state;
	struct vouches *v = vouches_new();
	vouch(v, "h1", "dist/a", "dist/a2", NULL);
	vouch(v, "h2", "dist/a", NULL);
	assert_false(holds(v, "h1"));
	assert_true(holds(v, "h2"));
	assert_int_equal(vouches_touch(v, "dist/a2/x"), 0); /* h1 is gone with all its roots */
	assert_int_equal(vouches_touch(v, "dist"), 1);
	vouches_free(v);
}

static void an_entry_without_outputs_is_cleared_too(void **state)
{
	(void)state;
	struct vouches *v = vouches_new();
	vouch(v, "h1", NULL);
	vouch(v, "h2", "dist/b", NULL);
	assert_true(holds(v, "h1"));
	vouches_clear(v);
	assert_false(holds(v, "h1"));
	assert_false(holds(v, "h2"));
	assert_int_equal(vouches_count(v), 0);
	vouches_free(v);
}

static void many_vouches_dropped_and_made_again_stay_found(void **state)
{
	(void)state;
	struct vouches *v = vouches_new();
	char hash[33], root[40];
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 3000; i++) {
			snprintf(hash, sizeof(hash), "r%di%d", round, i);
			snprintf(root, sizeof(root), "dist/packages/p%d", i);
			vouch(v, hash, root, NULL);
		}
		assert_int_equal(vouches_count(v), 3000);
		snprintf(root, sizeof(root), "dist/packages/p%d/out.txt", 17);
		assert_int_equal(vouches_touch(v, root), 1);
		snprintf(hash, sizeof(hash), "r%di%d", round, 18);
		assert_true(holds(v, hash));
	}
	assert_int_equal(vouches_touch(v, "dist/packages"), 2999);
	assert_int_equal(vouches_count(v), 0);
	vouches_free(v);
}

static void freeing_null_is_fine(void **state)
{
	(void)state;
	vouches_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_granted_vouch_holds_for_that_entry_only),
	    cmocka_unit_test(a_change_at_or_below_a_root_drops_it),
	    cmocka_unit_test(a_change_above_a_root_drops_every_root_below_it),
	    cmocka_unit_test(siblings_and_lookalike_names_keep_it),
	    cmocka_unit_test(a_change_during_the_check_wins_over_the_grant),
	    cmocka_unit_test(a_cancelled_check_vouches_for_nothing),
	    cmocka_unit_test(another_entry_over_the_same_root_replaces_it),
	    cmocka_unit_test(an_entry_without_outputs_is_cleared_too),
	    cmocka_unit_test(many_vouches_dropped_and_made_again_stay_found),
	    cmocka_unit_test(freeing_null_is_fine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
