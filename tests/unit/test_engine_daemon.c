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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(list_request_gets_hello_text_and_done),
	    cmocka_unit_test(version_mismatch_is_refused),
	    cmocka_unit_test(request_before_hello_is_a_protocol_error),
	    cmocka_unit_test(unknown_command_and_bad_request),
	    cmocka_unit_test(client_gone_before_request_ends_cleanly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
