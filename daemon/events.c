/*
 * events.c - a run's task-start and task-end messages (docs/protocol.md)
 * written as JSON text, member by member, as cJSON would print them.
 *
 * A fully cached run-many sends two of these per task; built as cJSON trees
 * and printed, they cost the loop thread a malloc per member and a second
 * pass to print.  What never changes for a task of a kept graph -- its id,
 * project and commands, escaped -- is written once (struct event_frags, kept
 * with the graph's plans); an event copies it.  Pure: no libuv, no request;
 * unit-tested alone.
 */
#include <stdio.h>
#include <stdlib.h>

#include "run.h"

/* ,"<name>": for a literal name (its length known at compile time) */
#define KEY(e, name) sbuf_add((e), ",\"" name "\":", sizeof(",\"" name "\":") - 1)
/* a literal */
#define LIT(e, s) sbuf_add((e), s, sizeof(s) - 1)

static void add_int(struct sbuf *e, long long n)
{
	char b[24];
	int len = snprintf(b, sizeof(b), "%lld", n);
	sbuf_add(e, b, (size_t)len);
}

void event_frags_init(struct event_frags *f, const struct task *t, const struct strvec *commands)
{
	struct sbuf s = SBUF_INIT;
	sbuf_init(&s);
	KEY(&s, "id");
	sbuf_add_json_str(&s, t->id);
	f->id_len = s.len;
	KEY(&s, "project");
	sbuf_add_json_str(&s, t->project->name);
	f->head_len = s.len;
	KEY(&s, "commands");
	sbuf_addc(&s, '[');
	for (size_t i = 0; commands && i < commands->n; i++) {
		if (i)
			sbuf_addc(&s, ',');
		sbuf_add_json_str(&s, commands->v[i]);
	}
	sbuf_addc(&s, ']');
	f->len = s.len;
	f->text = sbuf_detach(&s);
}

void event_frags_release(struct event_frags *f)
{
	free(f->text);
	f->text = NULL;
}

/* {"t":"<t>","task":<index> into e, emptied first (t a literal) */
#define BEGIN(e, t, index)                                                                         \
	do {                                                                                       \
		sbuf_reset(e);                                                                     \
		LIT((e), "{\"t\":\"" t "\"");                                                      \
		KEY(e, "task");                                                                    \
		add_int((e), (index));                                                             \
	} while (0)

void event_task_start(struct sbuf *out, int index, const struct task *t,
                      const struct event_frags *f, const char *cache, bool shared)
{
	BEGIN(out, "task-start", index);
	sbuf_add(out, f->text, f->head_len); /* id, project */
	if (t->requested)
		LIT(out, ",\"requested\":true");
	if (t->hash[0]) {
		KEY(out, "hash");
		sbuf_add_json_str(out, t->hash);
	}
	if (cache) {
		KEY(out, "cache");
		sbuf_add_json_str(out, cache);
	}
	sbuf_add(out, f->text + f->head_len, f->len - f->head_len); /* commands */
	if (t->continuous)
		LIT(out, ",\"continuous\":true");
	if (shared)
		LIT(out, ",\"shared\":true");
	sbuf_addc(out, '}');
}

void event_task_end(struct sbuf *out, int index, const struct event_frags *f, const char *status,
                    const char *cache, uint64_t ms, int exit_code, bool shared)
{
	BEGIN(out, "task-end", index);
	sbuf_add(out, f->text, f->id_len);
	KEY(out, "status");
	sbuf_add_json_str(out, status);
	KEY(out, "cache");
	sbuf_add_json_str(out, cache);
	KEY(out, "ms");
	add_int(out, (long long)ms);
	KEY(out, "exit");
	add_int(out, exit_code);
	if (shared)
		LIT(out, ",\"shared\":true");
	sbuf_addc(out, '}');
}
