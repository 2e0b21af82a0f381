/*
 * env.c - environment sets and the dotenv reader.  See env.h.
 */
#include "env.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void envset_init(struct envset *e)
{
	strvec_init(&e->kv);
	strmap_init(&e->idx);
	e->arr = NULL;
}

void envset_release(struct envset *e)
{
	strvec_release(&e->kv);
	strmap_release(&e->idx);
	free(e->arr);
	e->arr = NULL;
}

static void set_kv(struct envset *e, const char *key, size_t klen, char *kv, bool override)
{
	char *k = xstrndup(key, klen);
	intptr_t at = (intptr_t)strmap_get(&e->idx, k);
	if (at) {
		if (override) {
			free(e->kv.v[at - 1]);
			e->kv.v[at - 1] = kv;
		} else {
			free(kv);
		}
	} else {
		strvec_push_owned(&e->kv, kv);
		strmap_put(&e->idx, k, (void *)(intptr_t)e->kv.n);
	}
	free(k);
}

void envset_put(struct envset *e, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return;
	set_kv(e, kv, (size_t)(eq - kv), xstrdup(kv), true);
}

void envset_add_all(struct envset *e, char *const *env)
{
	for (size_t i = 0; env && env[i]; i++)
		envset_put(e, env[i]);
}

const char *envset_get(const struct envset *e, const char *key)
{
	intptr_t at = (intptr_t)strmap_get(&e->idx, key);
	if (!at)
		return NULL;
	return strchr(e->kv.v[at - 1], '=') + 1;
}

void envset_set(struct envset *e, const char *key, const char *val, bool override)
{
	set_kv(e, key, strlen(key), xasprintf("%s=%s", key, val), override);
}

char **envset_array(struct envset *e)
{
	free(e->arr);
	e->arr = xmalloc((e->kv.n + 1) * sizeof(*e->arr));
	memcpy(e->arr, e->kv.v, e->kv.n * sizeof(*e->arr));
	e->arr[e->kv.n] = NULL;
	return e->arr;
}

/* Expand $X, ${X}, ${X:-default} in s against e (and the file's own earlier keys). */
static void expand(const struct envset *e, const char *s, struct sbuf *out)
{
	for (const char *p = s; *p;) {
		if (p[0] == '\\' && p[1] == '$') {
			sbuf_addc(out, '$');
			p += 2;
			continue;
		}
		if (*p != '$') {
			sbuf_addc(out, *p++);
			continue;
		}
		const char *name = p + 1, *end;
		const char *dflt = NULL;
		size_t dlen = 0;
		bool braced = *name == '{';
		if (braced) {
			name++;
			end = strchr(name, '}');
			if (!end) {
				sbuf_adds(out, p);
				return;
			}
			const char *sep = strstr(name, ":-");
			if (sep && sep < end) {
				dflt = sep + 2;
				dlen = (size_t)(end - dflt);
			}
			char *k = xstrndup(name, (size_t)((sep && sep < end ? sep : end) - name));
			const char *v = envset_get(e, k);
			free(k);
			if (v && *v)
				sbuf_adds(out, v);
			else if (dflt)
				sbuf_add(out, dflt, dlen);
			p = end + 1;
			continue;
		}
		end = name;
		while (*end == '_' || isalnum((unsigned char)*end))
			end++;
		if (end == name) {
			sbuf_addc(out, *p++);
			continue;
		}
		char *k = xstrndup(name, (size_t)(end - name));
		const char *v = envset_get(e, k);
		free(k);
		if (v)
			sbuf_adds(out, v);
		p = end;
	}
}

/* Parse a quoted or bare value starting at p; the raw value into out; returns
 * the position after it, *ret_expand says whether $ expansion applies. */
static const char *parse_value(const char *p, struct sbuf *out, bool *ret_expand)
{
	*ret_expand = true;
	if (*p == '\'' || *p == '"' || *p == '`') {
		char q = *p++;
		*ret_expand = q != '\'';
		const char *end = strchr(p, q);
		if (!end)
			end = p + strlen(p);
		for (const char *c = p; c < end; c++) {
			if (q == '"' && c[0] == '\\' && c[1] == 'n') {
				sbuf_addc(out, '\n');
				c++;
			} else {
				sbuf_addc(out, *c);
			}
		}
		p = *end ? end + 1 : end;
		return p + strcspn(p, "\n");
	}
	const char *end = p + strcspn(p, "\n");
	const char *hash = p;
	/* an unquoted value ends at " #" */
	while ((hash = strchr(hash, '#')) && hash < end) {
		if (hash > p && (hash[-1] == ' ' || hash[-1] == '\t')) {
			end = hash;
			break;
		}
		hash++;
	}
	sbuf_add(out, p, (size_t)(end - p));
	sbuf_rtrim(out);
	return p + strcspn(p, "\n");
}

int dotenv_apply(struct envset *e, const char *text, bool override)
{
	int n = 0;
	struct sbuf raw = SBUF_INIT, val = SBUF_INIT;
	sbuf_init(&raw);
	sbuf_init(&val);
	for (const char *p = text; *p;) {
		p += strspn(p, " \t\r\n");
		if (str_starts(p, "export "))
			p += 7;
		const char *k = p;
		while (*p == '_' || *p == '.' || *p == '-' || isalnum((unsigned char)*p))
			p++;
		size_t klen = (size_t)(p - k);
		p += strspn(p, " \t");
		if (!klen || (*p != '=' && *p != ':')) {
			p += strcspn(p, "\n");
			continue;
		}
		p++;
		p += strspn(p, " \t");
		bool do_expand;
		sbuf_reset(&raw);
		sbuf_reset(&val);
		p = parse_value(p, &raw, &do_expand);
		if (do_expand)
			expand(e, raw.buf, &val);
		else
			sbuf_add(&val, raw.buf, raw.len);
		char *key = xstrndup(k, klen);
		envset_set(e, key, val.buf, override);
		free(key);
		n++;
	}
	sbuf_release(&raw);
	sbuf_release(&val);
	return n;
}
