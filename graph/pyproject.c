/*
 * pyproject.c - the few pyproject.toml keys bld reads, with a minimal,
 * strict TOML reader (Debian packages no C TOML library).
 *
 * Read: [project] name, [project] dependencies (PEP 508 strings: only the
 * leading distribution name is used), and [tool.uv.sources] entries with
 * workspace = true (as inline tables, sub-tables [tool.uv.sources.x] or
 * dotted keys).  The reader understands the TOML syntax around those keys:
 * tables, [[arrays of tables]] (skipped), bare/quoted/dotted keys, basic,
 * literal and multi-line strings, arrays spanning lines with comments and
 * trailing commas, inline tables, booleans; other scalars (numbers, dates)
 * are skipped.  Anything else is a syntax fault: then NOTHING from the file
 * is used (no name, no dependency) and a note says where - a malformed file
 * must never yield a wrong dependency.
 */
#include "ws_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct toml {
	const char *s;
	size_t i, len;
	const char *fault;     /* what was expected, at i; NULL while fine */
	struct strvec section; /* current [table] path */
	bool array_table;      /* inside [[...]]: values ignored */
	struct ws_pyproject *out;
	struct strvec dep_specs; /* [project] dependencies as written */
	const char *file;
	struct strvec *notes;
};

void ws__pyproject_init(struct ws_pyproject *py)
{
	py->name = NULL;
	strvec_init(&py->deps);
	strvec_init(&py->uv_ws);
}

void ws__pyproject_release(struct ws_pyproject *py)
{
	free(py->name);
	strvec_release(&py->deps);
	strvec_release(&py->uv_ws);
	ws__pyproject_init(py);
}

char *ws__pep503(const char *name, size_t len)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (c == '-' || c == '_' || c == '.') {
			if (sb.len && sb.buf[sb.len - 1] != '-')
				sbuf_addc(&sb, '-');
		} else {
			sbuf_addc(&sb, (char)tolower((unsigned char)c));
		}
	}
	while (sb.len && sb.buf[sb.len - 1] == '-')
		sb.buf[--sb.len] = '\0';
	return sbuf_detach(&sb);
}

/* ---- lexing ---- */

static int peek(const struct toml *t, size_t k)
{
	return t->i + k < t->len ? (unsigned char)t->s[t->i + k] : -1;
}

static bool fail(struct toml *t, const char *what)
{
	if (!t->fault)
		t->fault = what;
	return false;
}

static void skip_ws(struct toml *t)
{
	while (peek(t, 0) == ' ' || peek(t, 0) == '\t')
		t->i++;
}

static void skip_comment(struct toml *t)
{
	if (peek(t, 0) == '#')
		while (t->i < t->len && t->s[t->i] != '\n')
			t->i++;
}

/* Whitespace, newlines and comments (inside arrays). */
static void skip_all(struct toml *t)
{
	for (;;) {
		skip_ws(t);
		skip_comment(t);
		if (peek(t, 0) == '\n' || (peek(t, 0) == '\r' && peek(t, 1) == '\n'))
			t->i += peek(t, 0) == '\r' ? 2 : 1;
		else
			return;
	}
}

static bool at_line_end(struct toml *t)
{
	skip_ws(t);
	skip_comment(t);
	if (peek(t, 0) == '\r')
		t->i++;
	if (peek(t, 0) == '\n') {
		t->i++;
		return true;
	}
	return t->i >= t->len || fail(t, "the end of the line");
}

static void add_utf8(struct sbuf *sb, unsigned long cp)
{
	if (cp < 0x80) {
		sbuf_addc(sb, (char)cp);
	} else if (cp < 0x800) {
		sbuf_addc(sb, (char)(0xC0 | (cp >> 6)));
		sbuf_addc(sb, (char)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		sbuf_addc(sb, (char)(0xE0 | (cp >> 12)));
		sbuf_addc(sb, (char)(0x80 | ((cp >> 6) & 0x3F)));
		sbuf_addc(sb, (char)(0x80 | (cp & 0x3F)));
	} else {
		sbuf_addc(sb, (char)(0xF0 | (cp >> 18)));
		sbuf_addc(sb, (char)(0x80 | ((cp >> 12) & 0x3F)));
		sbuf_addc(sb, (char)(0x80 | ((cp >> 6) & 0x3F)));
		sbuf_addc(sb, (char)(0x80 | (cp & 0x3F)));
	}
}

static bool escape(struct toml *t, struct sbuf *sb)
{
	int c = peek(t, 0);
	static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
	const char *k = c > 0 ? strchr(from, c) : NULL;
	if (k) {
		sbuf_addc(sb, to[k - from]);
		t->i++;
		return true;
	}
	int n = c == 'u' ? 4 : c == 'U' ? 8 : 0;
	if (!n)
		return fail(t, "a valid escape (\\n, \\\", \\\\, \\uXXXX ...)");
	unsigned long cp = 0;
	for (int j = 1; j <= n; j++) {
		int h = peek(t, (size_t)j);
		if (h < 0 || !isxdigit(h))
			return fail(t, "hexadecimal digits after \\u");
		cp = cp * 16 + (unsigned long)(isdigit(h) ? h - '0' : tolower(h) - 'a' + 10);
	}
	t->i += (size_t)n + 1;
	add_utf8(sb, cp);
	return true;
}

/* A string of any of the four kinds; new string in *ret. */
static bool string(struct toml *t, char **ret)
{
	char q = (char)peek(t, 0);
	bool multi = peek(t, 1) == q && peek(t, 2) == q;
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	t->i += multi ? 3 : 1;
	if (multi && peek(t, 0) == '\n')
		t->i++;
	for (;;) {
		int c = peek(t, 0);
		if (c < 0 || (!multi && c == '\n')) {
			sbuf_release(&sb);
			return fail(t, "the closing quote of the string");
		}
		if (c == q && (!multi || (peek(t, 1) == q && peek(t, 2) == q))) {
			t->i += multi ? 3 : 1;
			while (multi &&
			       peek(t, 0) == q) { /* up to two quotes may end the content */
				sbuf_addc(&sb, q);
				t->i++;
			}
			break;
		}
		t->i++;
		if (c == '\\' && q == '"') {
			if (multi &&
			    (peek(t, 0) == '\n' || peek(t, 0) == ' ' || peek(t, 0) == '\r')) {
				while (peek(t, 0) >= 0 && strchr(" \t\r\n", peek(t, 0)))
					t->i++; /* line-ending backslash */
				continue;
			}
			if (!escape(t, &sb)) {
				sbuf_release(&sb);
				return false;
			}
			continue;
		}
		sbuf_addc(&sb, (char)c);
	}
	*ret = sbuf_detach(&sb);
	return true;
}

static bool bare_key_char(int c)
{
	return c > 0 && (isalnum(c) || c == '_' || c == '-');
}

/* A dotted key; components pushed to path. */
static bool key(struct toml *t, struct strvec *path)
{
	for (;;) {
		skip_ws(t);
		int c = peek(t, 0);
		if (c == '"' || c == '\'') {
			char *s;
			if (peek(t, 1) == c && peek(t, 2) == c)
				return fail(t, "a key (multi-line strings cannot be keys)");
			if (!string(t, &s))
				return false;
			strvec_push_owned(path, s);
		} else if (bare_key_char(c)) {
			size_t b = t->i;
			while (bare_key_char(peek(t, 0)))
				t->i++;
			strvec_push_owned(path, xstrndup(t->s + b, t->i - b));
		} else {
			return fail(t, "a key");
		}
		skip_ws(t);
		if (peek(t, 0) != '.')
			return true;
		t->i++;
	}
}

/* ---- values (as cJSON: strings, bools, arrays, objects; null = other) ---- */

static cJSON *value(struct toml *t, int depth);

static cJSON *array(struct toml *t, int depth)
{
	cJSON *a = cJSON_CreateArray();
	t->i++;
	for (;;) {
		skip_all(t);
		if (peek(t, 0) == ']') {
			t->i++;
			return a;
		}
		cJSON *v = value(t, depth + 1);
		if (!v)
			break;
		cJSON_AddItemToArray(a, v);
		skip_all(t);
		if (peek(t, 0) == ',') {
			t->i++;
			continue;
		}
		if (peek(t, 0) == ']')
			continue;
		fail(t, "',' or ']' in the array");
		break;
	}
	cJSON_Delete(a);
	return NULL;
}

/* Put v at the dotted path below obj (creating tables). */
static void put_path(cJSON *obj, const struct strvec *path, size_t from, cJSON *v)
{
	for (size_t k = from; k + 1 < path->n; k++) {
		cJSON *sub = cJSON_GetObjectItemCaseSensitive(obj, path->v[k]);
		if (!cJSON_IsObject(sub))
			sub = cJSON_AddObjectToObject(obj, path->v[k]);
		obj = sub;
	}
	cJSON_AddItemToObject(obj, path->v[path->n - 1], v);
}

static cJSON *inline_table(struct toml *t, int depth)
{
	cJSON *o = cJSON_CreateObject();
	t->i++;
	skip_all(t);
	if (peek(t, 0) == '}') {
		t->i++;
		return o;
	}
	for (;;) {
		struct strvec path;
		strvec_init(&path);
		skip_all(t);
		if (!key(t, &path)) {
			strvec_release(&path);
			break;
		}
		skip_ws(t);
		if (peek(t, 0) != '=') {
			strvec_release(&path);
			fail(t, "'=' after the key");
			break;
		}
		t->i++;
		skip_ws(t);
		cJSON *v = value(t, depth + 1);
		if (v)
			put_path(o, &path, 0, v);
		strvec_release(&path);
		if (!v)
			break;
		skip_all(t);
		if (peek(t, 0) == ',') {
			t->i++;
			continue;
		}
		if (peek(t, 0) == '}') {
			t->i++;
			return o;
		}
		fail(t, "',' or '}' in the inline table");
		break;
	}
	cJSON_Delete(o);
	return NULL;
}

static cJSON *value(struct toml *t, int depth)
{
	int c = peek(t, 0);
	if (depth > 32) {
		fail(t, "less nesting");
		return NULL;
	}
	if (c == '"' || c == '\'') {
		char *s;
		if (!string(t, &s))
			return NULL;
		cJSON *v = cJSON_CreateString(s);
		free(s);
		return v;
	}
	if (c == '[')
		return array(t, depth);
	if (c == '{')
		return inline_table(t, depth);
	if (t->len - t->i >= 4 && !strncmp(t->s + t->i, "true", 4) && !bare_key_char(peek(t, 4))) {
		t->i += 4;
		return cJSON_CreateTrue();
	}
	if (t->len - t->i >= 5 && !strncmp(t->s + t->i, "false", 5) && !bare_key_char(peek(t, 5))) {
		t->i += 5;
		return cJSON_CreateFalse();
	}
	/* numbers, dates, inf, nan: skipped, kept as null */
	size_t b = t->i;
	while (peek(t, 0) > 0 && (isalnum(peek(t, 0)) || strchr("_:+-.", peek(t, 0))))
		t->i++;
	if (peek(t, 0) == ' ' && isdigit(peek(t, 1)) && t->i > b && isdigit(t->s[t->i - 1]))
		for (t->i++;
		     peek(t, 0) > 0 && (isalnum(peek(t, 0)) || strchr("_:+-.", peek(t, 0)));)
			t->i++; /* "1979-05-27 07:32:00" */
	if (t->i == b) {
		fail(t, "a value (string, array, inline table, true/false, number or date)");
		return NULL;
	}
	return cJSON_CreateNull();
}

/* ---- what we keep ---- */

static bool path_is(const struct strvec *p, size_t n, const char *const *want)
{
	if (p->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(p->v[i], want[i]))
			return false;
	return true;
}

static void note(struct toml *t, const char *fmt, const char *arg)
{
	if (!t->notes)
		return;
	char *msg = xasprintf(fmt, arg);
	strvec_push_owned(t->notes, xasprintf("%s: %s", t->file, msg));
	free(msg);
}

/* Walk a key's value down into inline tables, keeping the keys we read. */
static void keep(struct toml *t, struct strvec *path, const cJSON *v)
{
	static const char *const pname[] = {"project", "name"};
	static const char *const pdeps[] = {"project", "dependencies"};
	if (cJSON_IsObject(v)) {
		const cJSON *e;
		cJSON_ArrayForEach(e, v)
		{
			strvec_push(path, e->string);
			keep(t, path, e);
			free(path->v[--path->n]);
			path->v[path->n] = NULL;
		}
		return;
	}
	if (path_is(path, 2, pname)) {
		if (cJSON_IsString(v)) {
			free(t->out->name);
			t->out->name = ws__pep503(v->valuestring, strlen(v->valuestring));
		} else {
			note(t, "[project] name is not a string (%s); ignored", "");
		}
	} else if (path_is(path, 2, pdeps)) {
		const cJSON *e;
		cJSON_ArrayForEach(e, v)
		{
			if (cJSON_IsString(e))
				strvec_push(&t->dep_specs, e->valuestring);
			else
				note(t, "a [project] dependencies entry is not a string%s; ignored",
				     "");
		}
	} else if (path->n == 5 && !strcmp(path->v[0], "tool") && !strcmp(path->v[1], "uv") &&
	           !strcmp(path->v[2], "sources") && !strcmp(path->v[4], "workspace") &&
	           cJSON_IsTrue(v)) {
		strvec_push_owned(&t->out->uv_ws, ws__pep503(path->v[3], strlen(path->v[3])));
	}
}

static bool header(struct toml *t)
{
	bool arr = peek(t, 1) == '[';
	t->i += arr ? 2 : 1;
	strvec_release(&t->section);
	if (!key(t, &t->section))
		return false;
	if (peek(t, 0) != ']' || (arr && peek(t, 1) != ']'))
		return fail(t, arr ? "']]' closing the array-of-tables header"
		                   : "']' closing the table header");
	t->i += arr ? 2 : 1;
	t->array_table = arr;
	return at_line_end(t);
}

static bool keyval(struct toml *t)
{
	struct strvec path;
	strvec_init(&path);
	for (size_t k = 0; k < t->section.n; k++)
		strvec_push(&path, t->section.v[k]);
	bool ok = key(t, &path);
	if (ok) {
		skip_ws(t);
		ok = peek(t, 0) == '=' || fail(t, "'=' after the key");
	}
	cJSON *v = NULL;
	if (ok) {
		t->i++;
		skip_ws(t);
		v = value(t, 0);
		ok = v && at_line_end(t);
	}
	if (ok && !t->array_table)
		keep(t, &path, v);
	cJSON_Delete(v);
	strvec_release(&path);
	return ok;
}

/* PEP 508: the distribution name that starts a requirement, normalised. */
static char *requirement_name(const char *req)
{
	while (isspace((unsigned char)*req))
		req++;
	size_t n = 0;
	while (req[n] && (isalnum((unsigned char)req[n]) || strchr("-_.", req[n])))
		n++;
	if (!n || !isalnum((unsigned char)req[0]) || !isalnum((unsigned char)req[n - 1]))
		return NULL;
	const char *rest = req + n;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	if (*rest && !strchr("[(<>=!~;@", *rest))
		return NULL;
	return ws__pep503(req, n);
}

void ws__pyproject_parse(const char *text, size_t len, const char *file, struct ws_pyproject *py,
                         struct strvec *notes)
{
	struct toml t = {.s = text, .len = len, .out = py, .file = file, .notes = notes};
	strvec_init(&t.section);
	strvec_init(&t.dep_specs);
	while (t.i < t.len && !t.fault) {
		skip_all(&t);
		if (t.i >= t.len)
			break;
		if (peek(&t, 0) == '[')
			header(&t);
		else
			keyval(&t);
	}
	if (t.fault) {
		int line, col;
		ws__text_linecol(text, t.i, &line, &col);
		if (notes)
			strvec_push_owned(
			    notes, xasprintf("%s:%d:%d: TOML not understood (expected %s); no "
			                     "Python dependencies read from this file",
			                     file, line, col, t.fault));
		ws__pyproject_release(py);
	} else {
		for (size_t k = 0; k < t.dep_specs.n; k++) {
			char *name = requirement_name(t.dep_specs.v[k]);
			if (name)
				strvec_push_owned(&py->deps, name);
			else
				note(&t, "dependency \"%s\" not understood; skipped",
				     t.dep_specs.v[k]);
		}
	}
	strvec_release(&t.section);
	strvec_release(&t.dep_specs);
}
