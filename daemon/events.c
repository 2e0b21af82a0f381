/*
 * events.c - a run's task-start and task-end messages (docs/protocol.md)
 * written as JSON text, member by member, as cJSON would print them.
 *
 * A fully cached run-many sends two of these per task; built as cJSON trees
 * and printed, they cost the loop thread a malloc per member and a second
 * pass to print.  Pure: no libuv, no request; unit-tested alone.
 */
#include <stdio.h>

#include "run.h"

/* ,"<name>": for a literal name (its length known at compile time) */
#define KEY(e, name) sbuf_add((e), ",\"" name "\":", sizeof(",\"" name "\":") - 1)

static void add_int(struct sbuf *e, long long n)
{
	char b[24];
	int len = snprintf(b, sizeof(b), "%lld", n);
	sbuf_add(e, b, (size_t)len);
}

/* {"t":"<t>","task":<index>,"id":"<id>" into e, emptied first (t a literal) */
#define BEGIN(e, t, index, id)                                                                     \
	do {                                                                                       \
		sbuf_reset(e);                                                                     \
		sbuf_add((e), "{\"t\":\"" t "\"", sizeof("{\"t\":\"" t "\"") - 1);                 \
		KEY(e, "task");                                                                    \
		add_int((e), (index));                                                             \
		KEY(e, "id");                                                                      \
		sbuf_add_json_str((e), (id));                                                      \
	} while (0)

void event_task_start(struct sbuf *out, int index, const struct task *t,
                      const struct strvec *commands, const char *cache, bool shared)
{
	BEGIN(out, "task-start", index, t->id);
	KEY(out, "project");
	sbuf_add_json_str(out, t->project->name);
	if (t->requested) {
		KEY(out, "requested");
		sbuf_add(out, "true", 4);
	}
	if (t->hash[0]) {
		KEY(out, "hash");
		sbuf_add_json_str(out, t->hash);
	}
	if (cache) {
		KEY(out, "cache");
		sbuf_add_json_str(out, cache);
	}
	KEY(out, "commands");
	sbuf_addc(out, '[');
	for (size_t i = 0; commands && i < commands->n; i++) {
		if (i)
			sbuf_addc(out, ',');
		sbuf_add_json_str(out, commands->v[i]);
	}
	sbuf_addc(out, ']');
	if (t->continuous) {
		KEY(out, "continuous");
		sbuf_add(out, "true", 4);
	}
	if (shared) {
		KEY(out, "shared");
		sbuf_add(out, "true", 4);
	}
	sbuf_addc(out, '}');
}

void event_task_end(struct sbuf *out, int index, const char *id, const char *status,
                    const char *cache, uint64_t ms, int exit_code, bool shared)
{
	BEGIN(out, "task-end", index, id);
	KEY(out, "status");
	sbuf_add_json_str(out, status);
	KEY(out, "cache");
	sbuf_add_json_str(out, cache);
	KEY(out, "ms");
	add_int(out, (long long)ms);
	KEY(out, "exit");
	add_int(out, exit_code);
	if (shared) {
		KEY(out, "shared");
		sbuf_add(out, "true", 4);
	}
	sbuf_addc(out, '}');
}
