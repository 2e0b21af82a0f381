/*
 * vouch.c - the table of vouched-for cache entries (vouch.h).
 *
 * Three maps: hash -> vouch, root -> vouch (a root belongs to one vouch at
 * most), and folder -> how many roots lie below it, so that a change to a
 * folder above some roots (dist/ removed, renamed) finds them without a scan
 * of every root for the common change that is above none.
 */
#include <stdlib.h>
#include <string.h>

#include "vouch.h"

struct vouch {
	struct vouch_id id;
	uint64_t token;
	bool granted;
	struct strvec roots;
};

struct vouches {
	struct strmap by_hash; /* hash -> struct vouch (owned through here) */
	struct strmap by_root; /* root -> struct vouch */
	struct strmap above;   /* folder ("" the root) -> roots below it (intptr_t) */
	size_t granted;
	uint64_t next_token;
};

struct vouches *vouches_new(void)
{
	struct vouches *v = xcalloc(1, sizeof(*v));
	strmap_init(&v->by_hash);
	strmap_init(&v->by_root);
	strmap_init(&v->above);
	return v;
}

static void above_bump(struct vouches *v, const char *folder, intptr_t d)
{
	intptr_t n = (intptr_t)strmap_get(&v->above, folder) + d;
	if (n)
		strmap_put(&v->above, folder, (void *)n);
	else
		strmap_del(&v->above, folder);
}

/* Add d to the count of every folder above root ("" included). */
static void above_add(struct vouches *v, const char *root, intptr_t d)
{
	char *p = xstrdup(root);
	above_bump(v, "", d);
	for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		above_bump(v, p, d);
		*s = '/';
	}
	free(p);
}

static void drop(struct vouches *v, struct vouch *x)
{
	strmap_del(&v->by_hash, x->id.hash);
	for (size_t i = 0; i < x->roots.n; i++) {
		if (strmap_get(&v->by_root, x->roots.v[i]) != x)
			continue; /* listed twice */
		strmap_del(&v->by_root, x->roots.v[i]);
		above_add(v, x->roots.v[i], -1);
	}
	if (x->granted)
		v->granted--;
	strvec_release(&x->roots);
	free(x);
}

bool vouches_holds(const struct vouches *v, const struct vouch_id *id)
{
	const struct vouch *x = v->granted ? strmap_get(&v->by_hash, id->hash) : NULL;
	return x && x->granted && x->id.created == id->created && x->id.size == id->size &&
	       x->id.duration_ms == id->duration_ms && x->id.terminal_len == id->terminal_len;
}

uint64_t vouches_begin(struct vouches *v, const struct vouch_id *id, const struct strvec *roots)
{
	struct vouch *old = strmap_get(&v->by_hash, id->hash);
	if (old)
		drop(v, old);
	for (size_t i = 0; i < roots->n; i++)
		if ((old = strmap_get(&v->by_root, roots->v[i])))
			drop(v, old);
	struct vouch *x = xcalloc(1, sizeof(*x));
	x->id = *id;
	x->token = ++v->next_token;
	strvec_init(&x->roots);
	strmap_put(&v->by_hash, x->id.hash, x);
	for (size_t i = 0; i < roots->n; i++) {
		strvec_push(&x->roots, roots->v[i]);
		if (strmap_get(&v->by_root, roots->v[i]))
			continue; /* listed twice */
		strmap_put(&v->by_root, roots->v[i], x);
		above_add(v, roots->v[i], 1);
	}
	return x->token;
}

bool vouches_grant(struct vouches *v, const char *hash, uint64_t token)
{
	struct vouch *x = strmap_get(&v->by_hash, hash);
	if (!x || x->token != token || x->granted)
		return false;
	x->granted = true;
	v->granted++;
	return true;
}

void vouches_cancel(struct vouches *v, const char *hash, uint64_t token)
{
	struct vouch *x = strmap_get(&v->by_hash, hash);
	if (x && x->token == token)
		drop(v, x);
}

/* Drop the vouches with a root below folder rel ("" : all). */
static size_t drop_below(struct vouches *v, const char *rel)
{
	size_t n = strlen(rel), it = 0, dropped = 0;
	const char *k;
	void *x;
	struct strvec under;
	strvec_init(&under);
	while (strmap_next(&v->by_root, &it, &k, &x))
		if (!n || (!strncmp(k, rel, n) && k[n] == '/'))
			strvec_push(&under, k);
	for (size_t i = 0; i < under.n; i++)
		if ((x = strmap_get(&v->by_root, under.v[i]))) {
			drop(v, x);
			dropped++;
		}
	strvec_release(&under);
	return dropped;
}

/* Drop the vouch with root rel, if any: 1 dropped, else 0. */
static size_t drop_root(struct vouches *v, const char *rel)
{
	struct vouch *x = strmap_get(&v->by_root, rel);
	if (!x)
		return 0;
	drop(v, x);
	return 1;
}

size_t vouches_touch(struct vouches *v, const char *rel)
{
	if (!v->by_hash.n)
		return 0;
	size_t dropped = 0;
	char *p = xstrdup(rel);
	for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) { /* roots above rel */
		*s = '\0';
		dropped += drop_root(v, p);
		*s = '/';
	}
	if (*p)
		dropped += drop_root(v, p);
	free(p);
	if (strmap_get(&v->above, rel)) /* roots below it */
		dropped += drop_below(v, rel);
	return dropped;
}

void vouches_clear(struct vouches *v)
{
	size_t it = 0;
	void *x;
	struct vouch **all = xcalloc(v->by_hash.n ? v->by_hash.n : 1, sizeof(*all));
	size_t n = 0;
	while (strmap_next(&v->by_hash, &it, NULL, &x)) /* with or without roots */
		all[n++] = x;
	for (size_t i = 0; i < n; i++)
		drop(v, all[i]);
	free(all);
}

size_t vouches_count(const struct vouches *v)
{
	return v->granted;
}

void vouches_free(struct vouches *v)
{
	if (!v)
		return;
	vouches_clear(v);
	strmap_release(&v->by_hash);
	strmap_release(&v->by_root);
	strmap_release(&v->above);
	free(v);
}
