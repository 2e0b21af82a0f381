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

/* ,"<key>": */
static void key(struct sbuf *e, const char *name)
{
	sbuf_adds(e, ",\"");
	sbuf_adds(e, name);
	sbuf_adds(e, "\":");
}

static void member_int(struct sbuf *e, const char *name, long long n)
{
	char b[24];
	int len = snprintf(b, sizeof(b), "%lld", n);
	key(e, name);
	sbuf_add(e, b, (size_t)len);
}

static void member_str(struct sbuf *e, const char *name, const char *value)
{
	key(e, name);
	sbuf_add_json_str(e, value);
}

/* "name":true, only when on (the messages leave false flags out) */
static void member_flag(struct sbuf *e, const char *name, bool on)
{
	if (!on)
		return;
	key(e, name);
	sbuf_adds(e, "true");
}

/* {"t":"<t>","task":<index>,"id":"<id>" into e, emptied first */
static void begin(struct sbuf *e, const char *t, int index, const char *id)
{
	sbuf_reset(e);
	sbuf_adds(e, "{\"t\":");
	sbuf_add_json_str(e, t);
	member_int(e, "task", index);
	member_str(e, "id", id);
}

void event_task_start(struct sbuf *out, int index, const struct task *t,
                      const struct strvec *commands, const char *cache, bool shared)
{
	begin(out, "task-start", index, t->id);
	member_str(out, "project", t->project->name);
	member_flag(out, "requested", t->requested);
	if (t->hash[0])
		member_str(out, "hash", t->hash);
	if (cache)
		member_str(out, "cache", cache);
	key(out, "commands");
	sbuf_addc(out, '[');
	for (size_t i = 0; commands && i < commands->n; i++) {
		if (i)
			sbuf_addc(out, ',');
		sbuf_add_json_str(out, commands->v[i]);
	}
	sbuf_addc(out, ']');
	member_flag(out, "continuous", t->continuous);
	member_flag(out, "shared", shared);
	sbuf_addc(out, '}');
}

void event_task_end(struct sbuf *out, int index, const char *id, const char *status,
                    const char *cache, uint64_t ms, int exit_code, bool shared)
{
	begin(out, "task-end", index, id);
	member_str(out, "status", status);
	member_str(out, "cache", cache);
	member_int(out, "ms", (long long)ms);
	member_int(out, "exit", exit_code);
	member_flag(out, "shared", shared);
	sbuf_addc(out, '}');
}
