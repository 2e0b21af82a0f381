/*
 * base.c - allocation, sbuf, strvec and strmap.  See base.h.
 */
#include "bld/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	fprintf(stderr, "bld: out of memory (%zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return sbuf_detach(&sb);
}

void xgrow(void *arrp, size_t *cap, size_t need, size_t elem)
{
	void **arr = arrp;
	size_t c = *cap;
	if (need <= c)
		return;
	c = c ? c : 8;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			oom(SIZE_MAX);
		c *= 2;
	}
	if (elem && c > SIZE_MAX / elem)
		oom(SIZE_MAX);
	*arr = xrealloc(*arr, c * elem);
	*cap = c;
}

/* sbuf */

static char sbuf_empty[1];

void sbuf_init(struct sbuf *sb)
{
	sb->buf = sbuf_empty;
	sb->len = sb->cap = 0;
}

void sbuf_release(struct sbuf *sb)
{
	if (sb->cap)
		free(sb->buf);
	sbuf_init(sb);
}

void sbuf_grow(struct sbuf *sb, size_t extra)
{
	if (extra > SIZE_MAX - 1 - sb->len)
		oom(SIZE_MAX);
	size_t need = sb->len + extra + 1;
	if (need <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (sb->cap) {
		sb->buf = xrealloc(sb->buf, cap);
	} else {
		char *nb = xmalloc(cap);
		if (sb->len && sb->buf)
			memcpy(nb, sb->buf, sb->len);
		sb->buf = nb;
	}
	sb->cap = cap;
	sb->buf[sb->len] = '\0';
}

void sbuf_add(struct sbuf *sb, const void *data, size_t n)
{
	if (!sb->buf)
		sbuf_init(sb);
	sbuf_grow(sb, n);
	memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sbuf_adds(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void sbuf_addc(struct sbuf *sb, char c)
{
	sbuf_add(sb, &c, 1);
}

/* The escape of c, a byte JSON may not hold as it is: into buf (7 bytes). */
static const char *json_escape(unsigned char c, char *buf)
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	}
	snprintf(buf, 7, "\\u%04x", c);
	return buf;
}

/* 1 for a byte JSON may not hold as it is: control characters, '"' and '\\' */
static const unsigned char json_special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, ['"'] = 1, ['\\'] = 1,
};

void sbuf_add_json_mem(struct sbuf *sb, const char *s, size_t len)
{
	sbuf_grow(sb, len + 2);
	sbuf_addc(sb, '"');
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	while (p < end) {
		const unsigned char *run = p; /* bytes that go as they are */
		while (run < end && !json_special[*run])
			run++;
		sbuf_add(sb, p, (size_t)(run - p));
		if (run == end)
			break;
		char buf[7];
		sbuf_adds(sb, json_escape(*run, buf));
		p = run + 1;
	}
	sbuf_addc(sb, '"');
}

void sbuf_add_json_str(struct sbuf *sb, const char *s)
{
	sbuf_add_json_mem(sb, s, strlen(s));
}

void sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	if (!sb->buf)
		sbuf_init(sb);
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	sbuf_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void sbuf_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void sbuf_reset(struct sbuf *sb)
{
	if (!sb->buf)
		sbuf_init(sb);
	sb->len = 0;
	if (sb->cap)
		sb->buf[0] = '\0';
}

char *sbuf_detach(struct sbuf *sb)
{
	char *s = sb->cap ? sb->buf : xstrdup("");
	sbuf_init(sb);
	return s;
}

void sbuf_rtrim(struct sbuf *sb)
{
	while (sb->len && strchr(" \t\r\n", sb->buf[sb->len - 1]))
		sb->buf[--sb->len] = '\0';
}

/* strvec */

void strvec_init(struct strvec *sv)
{
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

void strvec_release(struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	strvec_init(sv);
}

void strvec_push_owned(struct strvec *sv, char *s)
{
	xgrow(&sv->v, &sv->cap, sv->n + 2, sizeof(*sv->v));
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void strvec_push(struct strvec *sv, const char *s)
{
	strvec_push_owned(sv, xstrdup(s));
}

int strvec_find(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return (int)i;
	return -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strvec_sort(struct strvec *sv)
{
	if (sv->n > 1)
		qsort(sv->v, sv->n, sizeof(*sv->v), cmp_str);
}

void strvec_split(struct strvec *sv, const char *s, const char *seps)
{
	while (*s) {
		size_t n = strcspn(s, seps);
		if (n)
			strvec_push_owned(sv, xstrndup(s, n));
		s += n;
		if (*s)
			s++;
	}
}

/* strmap */

struct strmap_slot {
	char *key;
	void *val;
	uint64_t hash;
};

uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void strmap_init(struct strmap *m)
{
	m->slots = NULL;
	m->cap = m->n = 0;
}

void strmap_release(struct strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	strmap_init(m);
}

void strmap_release_values(struct strmap *m, void (*free_val)(void *))
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			free_val(m->slots[i].val);
	strmap_release(m);
}

static struct strmap_slot *find_slot(const struct strmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct strmap_slot *s = &m->slots[i];
		if (!s->key || (s->hash == h && !strcmp(s->key, key)))
			return s;
	}
}

static void rehash(struct strmap *m)
{
	struct strmap old = *m;
	m->cap = old.cap ? old.cap * 2 : 16;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.slots[i].key)
			continue;
		*find_slot(m, old.slots[i].key, old.slots[i].hash) = old.slots[i];
	}
	free(old.slots);
}

void *strmap_put(struct strmap *m, const char *key, void *val)
{
	if ((m->n + 1) * 4 >= m->cap * 3)
		rehash(m);
	uint64_t h = str_hash(key);
	struct strmap_slot *s = find_slot(m, key, h);
	if (s->key) {
		void *prev = s->val;
		s->val = val;
		return prev;
	}
	s->key = xstrdup(key);
	s->hash = h;
	s->val = val;
	m->n++;
	return NULL;
}

void *strmap_get(const struct strmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	struct strmap_slot *s = find_slot(m, key, str_hash(key));
	return s->key ? s->val : NULL;
}

bool strmap_has(const struct strmap *m, const char *key)
{
	return m->cap && find_slot(m, key, str_hash(key))->key;
}

/* Whether slot k's home h lies cyclically in (hole, k]: then it stays. */
static bool home_between(size_t hole, size_t k, size_t h)
{
	return hole < k ? hole < h && h <= k : hole < h || h <= k;
}

void *strmap_del(struct strmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	struct strmap_slot *s = find_slot(m, key, str_hash(key));
	if (!s->key)
		return NULL;
	void *val = s->val;
	free(s->key);
	m->n--;
	/* Linear probing: shift later slots of the run back over the hole, so
	 * every key stays reachable from its home slot without tombstones. */
	size_t mask = m->cap - 1, hole = (size_t)(s - m->slots);
	for (size_t k = (hole + 1) & mask; m->slots[k].key; k = (k + 1) & mask) {
		if (home_between(hole, k, m->slots[k].hash & mask))
			continue;
		m->slots[hole] = m->slots[k];
		hole = k;
	}
	m->slots[hole] = (struct strmap_slot){0};
	return val;
}

bool strmap_next(const struct strmap *m, size_t *it, const char **ret_key, void **ret_val)
{
	for (; *it < m->cap; (*it)++) {
		struct strmap_slot *s = &m->slots[*it];
		if (s->key) {
			if (ret_key)
				*ret_key = s->key;
			if (ret_val)
				*ret_val = s->val;
			(*it)++;
			return true;
		}
	}
	return false;
}

const char *env_get(char *const *env, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], name, n) && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

char *str_replace_all(const char *s, const char *tok, const char *val)
{
	struct sbuf sb = SBUF_INIT;
	size_t lt = strlen(tok);
	sbuf_init(&sb);
	for (const char *f; lt && (f = strstr(s, tok)); s = f + lt) {
		sbuf_add(&sb, s, (size_t)(f - s));
		sbuf_adds(&sb, val);
	}
	sbuf_adds(&sb, s);
	return sbuf_detach(&sb);
}

bool str_starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

bool str_ends(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !memcmp(s + a - b, suffix, b);
}

int str_edit_distance(const char *a, const char *b, int limit)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 256 || lb > 256)
		return limit + 1;
	int row[257];
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int prev = row[0], best;
		row[0] = (int)i;
		best = row[0];
		for (size_t j = 1; j <= lb; j++) {
			int cur = row[j];
			int sub = prev + (a[i - 1] != b[j - 1]);
			int del = row[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			prev = cur;
			if (row[j] < best)
				best = row[j];
		}
		if (best > limit)
			return limit + 1;
	}
	return row[lb] > limit ? limit + 1 : row[lb];
}
