/* test_engine_inflight.c - the in-flight table: claim, follow, leave, hand over, close. */
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inflight.h"

/* The table never looks inside a job: any distinct objects do. */
struct job {
	int id;
};

static struct job jobs[8];

/* A claim that must be new. */
static struct inflight_job *claim(struct inflight *t, const char *key, struct job *owner)
{
	bool claimed = false;
	struct inflight_job *sj = inflight_claim(t, key, owner, &claimed);
	assert_true(claimed);
	return sj;
}

static void a_claimed_hash_is_found_and_others_are_not(void **state)
{
	struct inflight *t = inflight_new();
	assert_null(inflight_find(t, "h1"));
	struct inflight_job *sj = claim(t, "h1", &jobs[0]);
	assert_ptr_equal(inflight_find(t, "h1"), sj);
	assert_null(inflight_find(t, "h2"));
	assert_ptr_equal(inflight_owner(sj), &jobs[0]);
	assert_string_equal(inflight_key(sj), "h1");
	assert_int_equal(inflight_phase(sj), INFLIGHT_CLAIMED);
	assert_false(inflight_started(sj));
	assert_int_equal(inflight_count(t), 1);
	assert_int_equal(inflight_interest(sj), 1);
	inflight_free(t);
}

static void a_second_claim_gets_the_first_owners_job(void **state)
{
	struct inflight *t = inflight_new();
	struct inflight_job *sj = claim(t, "h", &jobs[0]);
	bool claimed = true;
	assert_ptr_equal(inflight_claim(t, "h", &jobs[1], &claimed), sj);
	assert_false(claimed);
	assert_ptr_equal(inflight_owner(sj), &jobs[0]); /* unchanged */
	assert_int_equal(inflight_count(t), 1);
	inflight_free(t);
}

/* Workers claim on the thread pool: of many threads claiming the same keys at
 * once, exactly one wins each key. */
struct racer {
	struct inflight *t;
	int wins;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	char key[16];
	for (int i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		bool claimed;
		inflight_claim(r->t, key, &jobs[0], &claimed);
		r->wins += claimed;
	}
	return NULL;
}

static void threads_claiming_one_key_have_one_winner(void **state)
{
	struct inflight *t = inflight_new();
	pthread_t th[4];
	struct racer r[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){t, 0};
		pthread_create(&th[i], NULL, race, &r[i]);
	}
	int wins = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		wins += r[i].wins;
	}
	assert_int_equal(wins, 500);
	assert_int_equal(inflight_count(t), 500);
	inflight_free(t);
}

static void followers_are_counted_in_the_order_they_came(void **state)
{
	struct inflight *t = inflight_new();
	struct inflight_job *sj = claim(t, "h", &jobs[0]);
	inflight_subscribe(sj, &jobs[1]);
	inflight_subscribe(sj, &jobs[2]);
	inflight_subscribe(sj, &jobs[3]);
	assert_int_equal(inflight_interest(sj), 4);
	assert_int_equal(inflight_nsubs(sj), 3);
	assert_int_equal(inflight_followers(t), 3);
	assert_ptr_equal(inflight_sub(sj, 0), &jobs[1]);
	assert_ptr_equal(inflight_sub(sj, 2), &jobs[3]);
	assert_null(inflight_sub(sj, 3));
	inflight_free(t);
}

static void a_follower_that_leaves_removes_only_its_interest(void **state)
{
	struct inflight *t = inflight_new();
	struct inflight_job *sj = claim(t, "h", &jobs[0]);
	inflight_subscribe(sj, &jobs[1]);
	inflight_subscribe(sj, &jobs[2]);
	assert_true(inflight_unsubscribe(sj, &jobs[1]));
	assert_false(inflight_unsubscribe(sj, &jobs[1])); /* once */
	assert_false(inflight_unsubscribe(sj, &jobs[5])); /* never followed */
	assert_int_equal(inflight_interest(sj), 2);
	assert_int_equal(inflight_followers(t), 1);
	assert_ptr_equal(inflight_sub(sj, 0), &jobs[2]);
	assert_ptr_equal(inflight_owner(sj), &jobs[0]);
	assert_ptr_equal(inflight_find(t, "h"), sj);
	inflight_free(t);
}

static void an_owner_that_leaves_hands_over_to_the_earliest_follower(void **state)
{
	struct inflight *t = inflight_new();
	struct inflight_job *sj = claim(t, "h", &jobs[0]);
	inflight_set_phase(sj, INFLIGHT_RUNNING);
	inflight_set_started(sj);
	inflight_subscribe(sj, &jobs[1]);
	inflight_subscribe(sj, &jobs[2]);
	assert_ptr_equal(inflight_hand_over(sj), &jobs[1]);
	assert_ptr_equal(inflight_owner(sj), &jobs[1]);
	assert_int_equal(inflight_nsubs(sj), 1);
	assert_ptr_equal(inflight_sub(sj, 0), &jobs[2]);
	assert_int_equal(inflight_followers(t), 1);
	/* the job itself is unchanged: same key, phase, started */
	assert_ptr_equal(inflight_find(t, "h"), sj);
	assert_int_equal(inflight_phase(sj), INFLIGHT_RUNNING);
	assert_true(inflight_started(sj));
	assert_ptr_equal(inflight_hand_over(sj), &jobs[2]);
	inflight_free(t);
}

static void an_owner_nobody_follows_has_no_heir(void **state)
{
	struct inflight *t = inflight_new();
	struct inflight_job *sj = claim(t, "h", &jobs[0]);
	assert_null(inflight_hand_over(sj));
	assert_ptr_equal(inflight_owner(sj), &jobs[0]);
	assert_ptr_equal(inflight_find(t, "h"), sj);
	inflight_free(t);
}

static void closing_returns_those_still_waiting_and_frees_the_key(void **state)
{
	struct inflight *t = inflight_new();
	struct inflight_job *sj = claim(t, "h", &jobs[0]);
	inflight_subscribe(sj, &jobs[1]);
	inflight_subscribe(sj, &jobs[2]);
	struct job **subs;
	size_t n;
	inflight_close(t, sj, &subs, &n);
	assert_int_equal(n, 2);
	assert_ptr_equal(subs[0], &jobs[1]);
	assert_ptr_equal(subs[1], &jobs[2]);
	free(subs);
	assert_null(inflight_find(t, "h"));
	assert_int_equal(inflight_count(t), 0);
	assert_int_equal(inflight_followers(t), 0);
	/* the hash can be claimed afresh */
	sj = claim(t, "h", &jobs[3]);
	assert_ptr_equal(inflight_owner(sj), &jobs[3]);
	assert_int_equal(inflight_nsubs(sj), 0);
	inflight_close(t, sj, &subs, &n);
	assert_int_equal(n, 0);
	assert_null(subs);
	inflight_free(t);
}

static void followers_taken_at_the_end_leave_the_job_in_the_table(void **state)
{
	struct inflight *t = inflight_new();
	struct inflight_job *sj = claim(t, "h", &jobs[0]);
	inflight_set_phase(sj, INFLIGHT_RUNNING);
	inflight_subscribe(sj, &jobs[1]);
	inflight_set_phase(sj, INFLIGHT_ENDED);
	struct job **subs;
	size_t n;
	inflight_take_subs(sj, &subs, &n);
	assert_int_equal(n, 1);
	assert_ptr_equal(subs[0], &jobs[1]);
	free(subs);
	assert_int_equal(inflight_nsubs(sj), 0);
	assert_int_equal(inflight_followers(t), 0);
	/* one arriving while it is stored waits for the close */
	assert_ptr_equal(inflight_find(t, "h"), sj);
	inflight_subscribe(sj, &jobs[2]);
	inflight_close(t, sj, &subs, &n);
	assert_int_equal(n, 1);
	assert_ptr_equal(subs[0], &jobs[2]);
	free(subs);
	inflight_free(t);
}

/* Many hashes at once (the table grows) and removals in another order. */
static void many_jobs_grow_the_table_and_each_is_found(void **state)
{
	struct inflight *t = inflight_new();
	enum { N = 1000 };
	static struct inflight_job *sjs[N];
	char key[40];
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "%032x", i * 2654435761u);
		sjs[i] = claim(t, key, &jobs[i % 8]);
	}
	assert_int_equal(inflight_count(t), N);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "%032x", i * 2654435761u);
		assert_ptr_equal(inflight_find(t, key), sjs[i]);
	}
	for (int i = N - 1; i >= 0; i -= 2) {
		struct job **subs;
		size_t n;
		inflight_close(t, sjs[i], &subs, &n);
	}
	assert_int_equal(inflight_count(t), N / 2);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "%032x", i * 2654435761u);
		if (i % 2)
			assert_null(inflight_find(t, key));
		else
			assert_ptr_equal(inflight_find(t, key), sjs[i]);
	}
	inflight_free(t); /* frees the jobs still in it */
}

static void freeing_null_is_fine(void **state)
{
	inflight_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_claimed_hash_is_found_and_others_are_not),
	    cmocka_unit_test(a_second_claim_gets_the_first_owners_job),
	    cmocka_unit_test(threads_claiming_one_key_have_one_winner),
	    cmocka_unit_test(followers_are_counted_in_the_order_they_came),
	    cmocka_unit_test(a_follower_that_leaves_removes_only_its_interest),
	    cmocka_unit_test(an_owner_that_leaves_hands_over_to_the_earliest_follower),
	    cmocka_unit_test(an_owner_nobody_follows_has_no_heir),
	    cmocka_unit_test(closing_returns_those_still_waiting_and_frees_the_key),
	    cmocka_unit_test(followers_taken_at_the_end_leave_the_job_in_the_table),
	    cmocka_unit_test(many_jobs_grow_the_table_and_each_is_found),
	    cmocka_unit_test(freeing_null_is_fine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
