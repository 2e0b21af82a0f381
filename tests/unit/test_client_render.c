/* test_client_render.c - events -> terminal text: prefixes, whole lines, the summary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client.h"

struct fixture {
	int out[2], err[2];
	struct render r;
};

static void setup(struct fixture *f)
{
	assert_int_equal(pipe(f->out), 0);
	assert_int_equal(pipe(f->err), 0);
	render_init(&f->r, f->out[1], f->err[1], false);
}

/* Everything written to the out pipe so far (caller frees); closes the pipes. */
static char *finish(struct fixture *f, char **ret_err)
{
	render_release(&f->r);
	close(f->out[1]);
	close(f->err[1]);
	char *bufs[2];
	int fds[2] = {f->out[0], f->err[0]};
	for (int k = 0; k < 2; k++) {
		struct sbuf sb = SBUF_INIT;
		sbuf_init(&sb);
		char tmp[4096];
		ssize_t n;
		while ((n = read(fds[k], tmp, sizeof(tmp))) > 0)
			sbuf_add(&sb, tmp, (size_t)n);
		close(fds[k]);
		bufs[k] = sbuf_detach(&sb);
	}
	if (ret_err)
		*ret_err = bufs[1];
	else
		free(bufs[1]);
	return bufs[0];
}

static void event(struct render *r, const char *json)
{
	cJSON *ev = cJSON_Parse(json);
	assert_non_null(ev);
	render_event(r, ev);
	cJSON_Delete(ev);
}

static void lone_task_streams_bytes_untouched(void **state)
{
	struct fixture f;
	setup(&f);
	event(&f.r, "{\"t\":\"task-start\",\"task\":0,\"id\":\"a:build\"}");
	render_output(&f.r, 0, 1, "half", 4);
	render_output(&f.r, 0, 1, "-line\r\nx", 8);
	event(&f.r, "{\"t\":\"task-end\",\"task\":0,\"id\":\"a:build\",\"status\":\"success\"}");
	char *out = finish(&f, NULL);
	assert_non_null(strstr(out, "half-line\r\nx"));
	assert_null(strstr(out, "a:build: "));
	free(out);
}

static void overlapping_tasks_get_whole_prefixed_lines(void **state)
{
	struct fixture f;
	setup(&f);
	event(&f.r, "{\"t\":\"task-start\",\"task\":0,\"id\":\"pa:build\"}");
	event(&f.r, "{\"t\":\"task-start\",\"task\":1,\"id\":\"pb:build\"}");
	render_output(&f.r, 0, 1, "aaaa-", 5);
	render_output(&f.r, 1, 1, "bbbb-", 5);
	render_output(&f.r, 0, 1, "end\nlast", 8);
	render_output(&f.r, 1, 2, "err\n", 4);
	render_output(&f.r, 1, 1, "end\n", 4);
	event(&f.r, "{\"t\":\"task-end\",\"task\":0,\"id\":\"pa:build\",\"status\":\"success\"}");
	event(&f.r, "{\"t\":\"task-end\",\"task\":1,\"id\":\"pb:build\",\"status\":\"success\"}");
	char *err;
	char *out = finish(&f, &err);
	assert_non_null(strstr(out, "pa:build: aaaa-end\n"));
	assert_non_null(strstr(out, "pb:build: bbbb-end\n"));
	assert_non_null(strstr(out, "pa:build: last\n"));
	assert_non_null(strstr(err, "pb:build: err\n"));
	free(out);
	free(err);
}

static void summary_like_nx(void **state)
{
	struct fixture f;
	setup(&f);
	event(&f.r, "{\"t\":\"run-start\",\"cmd\":\"run\",\"targets\":[\"build\"],"
	            "\"projects\":[\"a\"],\"tasks\":3,\"requested\":1}");
	for (int i = 0; i < 3; i++) {
		char buf[200];
		snprintf(buf, sizeof(buf), "{\"t\":\"task-start\",\"task\":%d,\"id\":\"t%d\"}", i,
		         i);
		event(&f.r, buf);
		snprintf(buf, sizeof(buf),
		         "{\"t\":\"task-end\",\"task\":%d,\"id\":\"t%d\",\"status\":\"success\","
		         "\"cache\":\"%s\"}",
		         i, i, i < 2 ? "local" : "miss");
		event(&f.r, buf);
	}
	render_done(&f.r, 0);
	char *out = finish(&f, NULL);
	assert_non_null(
	    strstr(out, "Successfully ran target build for project a and 2 tasks it depends on"));
	assert_non_null(strstr(out, "for 2 out of 3 tasks"));
	free(out);
}

static void failed_summary_lists_failed_tasks(void **state)
{
	struct fixture f;
	setup(&f);
	event(&f.r, "{\"t\":\"run-start\",\"cmd\":\"run-many\",\"targets\":[\"build\",\"test\"],"
	            "\"projects\":[\"a\",\"b\"],\"tasks\":3,\"requested\":3}");
	event(&f.r, "{\"t\":\"task-end\",\"task\":0,\"id\":\"a:build\",\"status\":\"failure\"}");
	event(&f.r, "{\"t\":\"task-end\",\"task\":1,\"id\":\"a:test\",\"status\":\"skipped\"}");
	render_done(&f.r, 1);
	char *out = finish(&f, NULL);
	assert_non_null(strstr(out, "Running targets build, test for 2 projects failed"));
	assert_non_null(strstr(out, "- a:build"));
	assert_non_null(strstr(out, "1 task did not run"));
	free(out);
}

static void messages_go_to_stderr(void **state)
{
	struct fixture f;
	setup(&f);
	event(&f.r, "{\"t\":\"message\",\"level\":\"error\",\"text\":\"nx.json:3:30: bad\"}");
	event(&f.r, "{\"t\":\"text\",\"text\":\"a\\nb\\n\"}");
	char *err;
	char *out = finish(&f, &err);
	assert_string_equal(out, "a\nb\n");
	assert_string_equal(err, "bld: error: nx.json:3:30: bad\n");
	free(out);
	free(err);
}

static void dependency_cache_hits_show_only_their_header_in_run(void **state)
{
	struct fixture f;
	setup(&f);
	event(&f.r, "{\"t\":\"run-start\",\"cmd\":\"run\",\"targets\":[\"build\"],"
	            "\"projects\":[\"a\"],\"tasks\":2,\"requested\":1}");
	event(&f.r, "{\"t\":\"task-start\",\"task\":0,\"id\":\"b:build\",\"project\":\"b\","
	            "\"cache\":\"local\"}");
	render_output(&f.r, 0, 1, "dep-output\n", 11);
	event(&f.r, "{\"t\":\"task-end\",\"task\":0,\"id\":\"b:build\",\"status\":\"success\","
	            "\"cache\":\"local\"}");
	event(&f.r, "{\"t\":\"task-start\",\"task\":1,\"id\":\"a:build\",\"project\":\"a\","
	            "\"cache\":\"local\",\"requested\":true}");
	render_output(&f.r, 1, 1, "own-output\n", 11);
	event(&f.r, "{\"t\":\"task-end\",\"task\":1,\"id\":\"a:build\",\"status\":\"success\","
	            "\"cache\":\"local\"}");
	render_done(&f.r, 0);
	char *out = finish(&f, NULL);
	assert_non_null(strstr(out, "> bld run b:build  [local cache]"));
	assert_null(strstr(out, "dep-output"));
	assert_non_null(strstr(out, "own-output"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lone_task_streams_bytes_untouched),
	    cmocka_unit_test(overlapping_tasks_get_whole_prefixed_lines),
	    cmocka_unit_test(summary_like_nx),
	    cmocka_unit_test(failed_summary_lists_failed_tasks),
	    cmocka_unit_test(messages_go_to_stderr),
	    cmocka_unit_test(dependency_cache_hits_show_only_their_header_in_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
