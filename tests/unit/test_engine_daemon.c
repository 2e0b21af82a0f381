/*
 * test_engine_daemon.c - the engine object and the conversation, over a real
 * socketpair, with requests that start no process: hello, version mismatch,
 * a text command, protocol errors, and the loop closing to zero.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine_int.h"
#include "run.h"

/* Send frames text (JSON messages, in order) to a one-shot engine, run it to the end,
 * and return every JSON message it answered, one per line (caller frees). */
static char *converse(int *ret_loop_close, const char *const *msgs, size_t n)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	for (size_t i = 0; i < n; i++)
		proto_encode_json(&out, msgs[i], strlen(msgs[i]));
	assert_int_equal(proto_write_all(sv[0], out.buf, out.len), 0);
	/* a closed client side means the client left (and a text command, on the thread
	 * pool, would then finish for nobody): close it only when there is nothing to say;
	 * otherwise the engine ends the conversation itself after done */
	if (!n)
		shutdown(sv[0], SHUT_WR);

	struct daemon *d;
	assert_int_equal(daemon_new(true, &d), 0);
	assert_int_equal(daemon_serve_fd(d, sv[1]), 0);
	*ret_loop_close = daemon_run(d);
	daemon_free(d);

	struct proto_reader rd;
	proto_reader_init(&rd);
	char buf[4096];
	ssize_t got;
	while ((got = read(sv[0], buf, sizeof(buf))) > 0)
		proto_reader_feed(&rd, buf, (size_t)got);
	close(sv[0]);
	sbuf_reset(&out);
	struct proto_frame f;
	while (proto_reader_next(&rd, &f) == 1)
		if (f.type == PROTO_JSON)
			sbuf_addf(&out, "%s\n", f.data);
	proto_reader_release(&rd);
	return sbuf_detach(&out);
}

static void list_request_gets_hello_text_and_done(void **state)
{
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	char *req = xasprintf("{\"t\":\"request\",\"cmd\":\"list\",\"args\":{},\"cwd\":\"%s\","
	                      "\"env\":[\"A=1\"]}",
	                      cwd);
	const char *msgs[] = {"{\"t\":\"hello\",\"proto\":1}", req};
	int closed;
	char *got = converse(&closed, msgs, 2);
	assert_int_equal(closed, 0);
	assert_non_null(strstr(got, "\"t\":\"hello\""));
	assert_non_null(strstr(got, "\"t\":\"text\""));
	assert_non_null(strstr(got, "nx:run-commands"));
	assert_non_null(strstr(got, "{\"t\":\"done\",\"exit\":0}\n"));
	free(got);
	free(req);
}

static void version_mismatch_is_refused(void **state)
{
	const char *msgs[] = {"{\"t\":\"hello\",\"proto\":999}"};
	int closed;
	char *got = converse(&closed, msgs, 1);
	assert_int_equal(closed, 0);
	assert_non_null(strstr(got, "protocol version mismatch"));
	assert_non_null(strstr(got, "{\"t\":\"done\",\"exit\":2}"));
	free(got);
}

static void request_before_hello_is_a_protocol_error(void **state)
{
	const char *msgs[] = {"{\"t\":\"request\",\"cmd\":\"list\",\"cwd\":\"/\"}"};
	int closed;
	char *got = converse(&closed, msgs, 1);
	assert_int_equal(closed, 0);
	assert_non_null(strstr(got, "hello"));
	assert_non_null(strstr(got, "\"exit\":2"));
	free(got);
}

static void unknown_command_and_bad_request(void **state)
{
	const char *msgs[] = {"{\"t\":\"hello\",\"proto\":1}",
	                      "{\"t\":\"request\",\"cmd\":\"frob\",\"cwd\":\"/\"}"};
	int closed;
	char *got = converse(&closed, msgs, 2);
	assert_int_equal(closed, 0);
	assert_non_null(strstr(got, "unknown command"));
	assert_non_null(strstr(got, "\"exit\":2"));
	free(got);
	const char *bad[] = {"{\"t\":\"hello\",\"proto\":1}",
	                     "{\"t\":\"request\",\"cmd\":\"list\",\"cwd\":\"relative\"}"};
	got = converse(&closed, bad, 2);
	assert_int_equal(closed, 0);
	assert_non_null(strstr(got, "absolute"));
	free(got);
}

static void client_gone_before_request_ends_cleanly(void **state)
{
	int closed;
	char *got = converse(&closed, NULL, 0);
	assert_int_equal(closed, 0);
	assert_string_equal(got, "");
	free(got);
}

/* The task-start / task-end messages as the cJSON trees that used to be printed. */
static char *start_as_cjson(int index, const struct task *t, const struct strvec *cmds,
                            const char *cache, bool shared)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "t", "task-start");
	cJSON_AddNumberToObject(m, "task", index);
	cJSON_AddStringToObject(m, "id", t->id);
	cJSON_AddStringToObject(m, "project", t->project->name);
	if (t->requested)
		cJSON_AddBoolToObject(m, "requested", true);
	if (t->hash[0])
		cJSON_AddStringToObject(m, "hash", t->hash);
	if (cache)
		cJSON_AddStringToObject(m, "cache", cache);
	cJSON *arr = cJSON_AddArrayToObject(m, "commands");
	for (size_t i = 0; cmds && i < cmds->n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(cmds->v[i]));
	if (t->continuous)
		cJSON_AddBoolToObject(m, "continuous", true);
	if (shared)
		cJSON_AddBoolToObject(m, "shared", true);
	char *text = cJSON_PrintUnformatted(m);
	cJSON_Delete(m);
	return text;
}

static void task_events_escape_odd_names_and_commands(void **state)
{
	struct ws_project p = {0};
	p.name = (char *)"we\"ird\\pr\xc3\xb6j";
	struct task t = {0};
	t.id = (char *)"we\"ird\\pr\xc3\xb6j:bu\tild:\x01" "cfg";
	t.project = &p;
	struct strvec cmds;
	strvec_init(&cmds);
	strvec_push(&cmds, "echo \"a\\b\" > 'dist/x y'\n\x1b[31mred");
	strvec_push(&cmds, "");
	struct sbuf e = SBUF_INIT;
	sbuf_init(&e);
	for (int k = 0; k < 4; k++) { /* flags and optional members on and off */
		t.requested = k & 1;
		t.continuous = k & 2;
		strcpy(t.hash, k & 1 ? "0123456789abcdef0123456789abcdef" : "");
		const char *cache = k & 2 ? "local" : NULL;
		struct event_frags f;
		event_frags_init(&f, &t, k == 3 ? NULL : &cmds);
		event_task_start(&e, 7 + k, &t, &f, cache, k & 1);
		event_frags_release(&f);
		char *want = start_as_cjson(7 + k, &t, k == 3 ? NULL : &cmds, cache, k & 1);
		assert_string_equal(e.buf, want);
		free(want);
	}
	cJSON *m = cJSON_Parse(e.buf);
	assert_non_null(m);
	assert_string_equal(cJSON_GetObjectItem(m, "id")->valuestring, t.id);
	assert_string_equal(cJSON_GetObjectItem(m, "project")->valuestring, p.name);
	cJSON_Delete(m);
	struct event_frags f;
	event_frags_init(&f, &t, &cmds);
	event_task_end(&e, 3, &f, "success", "local", 12, -1, true);
	event_frags_release(&f);
	m = cJSON_Parse(e.buf);
	assert_non_null(m);
	assert_string_equal(cJSON_GetObjectItem(m, "t")->valuestring, "task-end");
	assert_string_equal(cJSON_GetObjectItem(m, "id")->valuestring, t.id);
	assert_int_equal(cJSON_GetObjectItem(m, "ms")->valueint, 12);
	assert_int_equal(cJSON_GetObjectItem(m, "exit")->valueint, -1);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(m, "shared")));
	cJSON_Delete(m);
	assert_string_equal(strchr(e.buf, ','), ",\"task\":3,\"id\":\"we\\\"ird\\\\pr\xc3\xb6j:bu\\tild:"
	                                         "\\u0001cfg\",\"status\":\"success\",\"cache\":"
	                                         "\"local\",\"ms\":12,\"exit\":-1,\"shared\":true}");
	sbuf_release(&e);
	strvec_release(&cmds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(list_request_gets_hello_text_and_done),
	    cmocka_unit_test(version_mismatch_is_refused),
	    cmocka_unit_test(request_before_hello_is_a_protocol_error),
	    cmocka_unit_test(unknown_command_and_bad_request),
	    cmocka_unit_test(client_gone_before_request_ends_cleanly),
	    cmocka_unit_test(task_events_escape_odd_names_and_commands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
