/*
 * metadata.c - the native OpenAPI -> TypeScript metadata codegen behind the
 * `bld:openapi-metadata` executor.
 *
 * Input: an OpenAPI 3 document as JSON.  Output: a TypeScript module
 *
 *     export const OPERATION_DETAILS = {
 *     	getItem: { path: '/items/{item_id}', method: 'GET' },
 *     	streamItems: { path: '/items/stream', method: 'GET', streaming: true },
 *     } as const;
 *     export type Operations = keyof typeof OPERATION_DETAILS;
 *
 * Rules (issue 6):
 * - an operation's name is camelCase(operationId), or camelCase("<method>-<path>")
 *   when it has none;
 * - names that collide across tags become "<camelCase(first tag)>.<name>"
 *   (an untagged one keeps its bare name); two colliding operations with
 *   the same first tag, or both untagged, are an error naming both
 *   (the same operationId twice included); so is a path, or a method of one
 *   path, given twice in the JSON (two operations, one name);
 * - an operation with the vendor extension `x-streaming: true` (FastAPI's
 *   openapi_extra) carries `streaming: true`; `false` or absent adds nothing;
 * - entries are sorted bytewise by name; output is deterministic to the byte
 *   (no time stamps, no absolute paths).
 * Errors name the JSON path of the fault: $.paths["/items"].get.operationId.
 */
#include "bld/gen.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_int.h"

/* OpenAPI 3 operation keys of a path item, in the order the spec lists them. */
static const char *const http_methods[] = {"get",     "put",  "post",  "delete",
                                           "options", "head", "patch", "trace"};

struct op {
	char *name; /* final name (maybe "tag.name") */
	char *base; /* camelCase name before tag prefixing */
	char *tag;  /* camelCase first tag, or NULL */
	char *path; /* borrowed from the cJSON tree */
	char method[8];
	bool streaming; /* x-streaming: true */
	char *where;    /* JSON path of the operation, for errors */
};

struct ops {
	struct op *v;
	size_t n, cap;
};

static void ops_release(struct ops *ops)
{
	for (size_t i = 0; i < ops->n; i++) {
		free(ops->v[i].name);
		free(ops->v[i].base);
		free(ops->v[i].tag);
		free(ops->v[i].where);
	}
	free(ops->v);
	ops->v = NULL;
	ops->n = ops->cap = 0;
}

static bool is_word_char(unsigned char c)
{
	return c < 0x80 && isalnum(c);
}

/* Does a word break fall between s[i-1] and s[i] (both word chars)? */
static bool camel_break(const char *s, size_t i)
{
	unsigned char p = (unsigned char)s[i - 1], c = (unsigned char)s[i];
	if (isupper(c) && (islower(p) || isdigit(p)))
		return true;
	/* "HTTPServer": the break is before the last capital of a run. */
	return isupper(c) && isupper(p) && islower((unsigned char)s[i + 1]);
}

void gen__camel_case(const char *s, struct sbuf *out)
{
	bool first_word = true, in_word = false;
	for (size_t i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!is_word_char(c)) {
			in_word = false;
			continue;
		}
		if (in_word && camel_break(s, i))
			in_word = false;
		if (!in_word) {
			in_word = true;
			if (!first_word) {
				sbuf_addc(out, (char)toupper(c));
				continue;
			}
			first_word = false;
		}
		sbuf_addc(out, (char)tolower(c));
	}
}

static char *camel_dup(const char *s)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	gen__camel_case(s, &sb);
	return sbuf_detach(&sb);
}

/* JSON path of a key below $.paths: bracket notation keeps '/' and '.' readable. */
static void add_json_str(struct sbuf *sb, const char *s)
{
	sbuf_addc(sb, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			sbuf_addc(sb, '\\');
		sbuf_addc(sb, *s);
	}
	sbuf_addc(sb, '"');
}

static char *op_where(const char *path, const char *method)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	sbuf_adds(&sb, "$.paths[");
	add_json_str(&sb, path);
	sbuf_addf(&sb, "].%s", method);
	return sbuf_detach(&sb);
}

static int spec_error(struct bld_err *err, const char *file, const char *fmt, const char *a,
                      const char *b)
{
	return bld_err_at(err, BLD_ESCHEMA, file, 0, 0, fmt, a, b);
}

/* The camelCase first tag of op (or NULL when untagged); checks the tags' shape. */
static int op_first_tag(const cJSON *op, const char *where, const char *file, char **ret_tag,
                        struct bld_err *err)
{
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(op, "tags");
	*ret_tag = NULL;
	if (!tags)
		return 0;
	if (!cJSON_IsArray(tags))
		return spec_error(err, file, "%s%s: expected an array of strings", where, ".tags");
	int i = 0;
	for (const cJSON *t = tags->child; t; t = t->next, i++) {
		if (!cJSON_IsString(t)) {
			char idx[32];
			snprintf(idx, sizeof(idx), ".tags[%d]", i);
			return spec_error(err, file, "%s%s: expected a string", where, idx);
		}
	}
	if (tags->child) {
		*ret_tag = camel_dup(tags->child->valuestring);
		if (!**ret_tag) {
			free(*ret_tag);
			*ret_tag = NULL;
			return spec_error(err, file,
			                  "%s%s: a tag needs at least one letter or digit", where,
			                  ".tags[0]");
		}
	}
	return 0;
}

static int op_add(struct ops *ops, const cJSON *op, const char *path, const char *method,
                  const char *file, struct bld_err *err)
{
	char *where = op_where(path, method);
	int rc = 0;
	if (!cJSON_IsObject(op)) {
		rc = spec_error(err, file, "%s: expected an operation object%s", where, "");
		goto out;
	}
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(op, "operationId");
	if (id && !cJSON_IsString(id)) {
		rc = spec_error(err, file, "%s%s: expected a string", where, ".operationId");
		goto out;
	}
	const cJSON *streaming = cJSON_GetObjectItemCaseSensitive(op, "x-streaming");
	if (streaming && !cJSON_IsBool(streaming)) {
		rc = spec_error(err, file, "%s%s: expected true or false", where, "[\"x-streaming\"]");
		goto out;
	}
	char *tag = NULL;
	rc = op_first_tag(op, where, file, &tag, err);
	if (rc < 0)
		goto out;
	char *raw = id ? xstrdup(id->valuestring) : xasprintf("%s-%s", method, path);
	char *base = camel_dup(raw);
	free(raw);
	if (!*base) {
		free(base);
		free(tag);
		rc = spec_error(err, file,
		                "%s%s: the operation name needs at least one letter or digit",
		                where, id ? ".operationId" : "");
		goto out;
	}
	xgrow(&ops->v, &ops->cap, ops->n + 1, sizeof(*ops->v));
	struct op *o = &ops->v[ops->n++];
	memset(o, 0, sizeof(*o));
	o->base = base;
	o->tag = tag;
	o->path = (char *)path;
	for (size_t i = 0; method[i] && i + 1 < sizeof(o->method); i++)
		o->method[i] = (char)toupper((unsigned char)method[i]);
	o->streaming = cJSON_IsTrue(streaming);
	o->where = where;
	return 0;
out:
	free(where);
	return rc;
}

/* An operation's name for an error: its operationId, else "no operationId". */
static const char *op_label(const cJSON *op)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(op, "operationId");
	return cJSON_IsString(id) ? id->valuestring : "(no operationId)";
}

/* A key given twice in one JSON object (cJSON keeps both; JavaScript keeps the
 * last): two operations under one name, refused, naming both.  Within a path
 * item only the HTTP methods matter; in $.paths (path NULL) every path. */
static int repeated_key(const cJSON *obj, const char *path, const char *file, struct bld_err *err)
{
	for (const cJSON *a = obj->child; a; a = a->next) {
		bool method = false;
		for (size_t m = 0; path && m < ARRAY_LEN(http_methods); m++)
			method = method || !strcmp(a->string, http_methods[m]);
		if (path && !method)
			continue;
		for (const cJSON *b = a->next; b; b = b->next) {
			if (strcmp(a->string, b->string))
				continue;
			char *where = path ? op_where(path, a->string) : NULL;
			int rc = path ? bld_err_at(err, BLD_ESCHEMA, file, 0, 0,
			                           "%s is given twice (operations '%s' and '%s'): two "
			                           "operations cannot share one path and method",
			                           where, op_label(a), op_label(b))
			              : bld_err_at(err, BLD_ESCHEMA, file, 0, 0,
			                           "$.paths: the path \"%s\" is given twice: its "
			                           "operations would get the same names",
			                           a->string);
			free(where);
			return rc;
		}
	}
	return 0;
}

static int path_item_collect(struct ops *ops, const cJSON *item, const char *file,
                             struct bld_err *err)
{
	const char *path = item->string;
	if (path[0] != '/')
		return bld_err_at(err, BLD_ESCHEMA, file, 0, 0,
		                  "$.paths[\"%s\"]: a path must start with '/'", path);
	if (!cJSON_IsObject(item))
		return bld_err_at(err, BLD_ESCHEMA, file, 0, 0,
		                  "$.paths[\"%s\"]: expected a path item object", path);
	int rc = repeated_key(item, path, file, err);
	if (rc < 0)
		return rc;
	for (size_t m = 0; m < ARRAY_LEN(http_methods); m++) {
		const cJSON *op = cJSON_GetObjectItemCaseSensitive(item, http_methods[m]);
		if (!op)
			continue;
		rc = op_add(ops, op, path, http_methods[m], file, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int collect(const cJSON *doc, const char *file, struct ops *ops, struct bld_err *err)
{
	if (!cJSON_IsObject(doc))
		return bld_err_at(err, BLD_ESCHEMA, file, 0, 0,
		                  "$: expected an OpenAPI document object");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(doc, "openapi");
	if (!cJSON_IsString(ver) || ver->valuestring[0] != '3')
		return bld_err_at(
		    err, BLD_ESCHEMA, file, 0, 0,
		    "$.openapi: expected an OpenAPI 3 version string such as \"3.1.0\"");
	const cJSON *paths = cJSON_GetObjectItemCaseSensitive(doc, "paths");
	if (!paths)
		return 0; /* an API without operations is valid OpenAPI */
	if (!cJSON_IsObject(paths))
		return bld_err_at(err, BLD_ESCHEMA, file, 0, 0, "$.paths: expected an object");
	int rc = repeated_key(paths, NULL, file, err);
	if (rc < 0)
		return rc;
	for (const cJSON *item = paths->child; item; item = item->next) {
		rc = path_item_collect(ops, item, file, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int by_base_then_where(const void *a, const void *b)
{
	const struct op *x = a, *y = b;
	int c = strcmp(x->base, y->base);
	return c ? c : strcmp(x->where, y->where);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct op *)a)->name, ((const struct op *)b)->name);
}

static bool same_tag(const struct op *a, const struct op *b)
{
	if (!a->tag || !b->tag)
		return !a->tag && !b->tag;
	return strcmp(a->tag, b->tag) == 0;
}

/* Name the run [lo, hi) of operations sharing one base name. */
static int name_group(struct op *v, size_t lo, size_t hi, const char *file, struct bld_err *err)
{
	for (size_t i = lo; i < hi; i++)
		for (size_t j = i + 1; j < hi; j++)
			if (same_tag(&v[i], &v[j]))
				return bld_err_at(err, BLD_ESCHEMA, file, 0, 0,
				                  "operations %s (%s %s) and %s (%s %s) are both "
				                  "named '%s'%s%s%s",
				                  v[i].where, v[i].method, v[i].path, v[j].where,
				                  v[j].method, v[j].path, v[i].base,
				                  v[i].tag ? " in tag '" : " and untagged",
				                  v[i].tag ? v[i].tag : "", v[i].tag ? "'" : "");
	for (size_t i = lo; i < hi; i++)
		v[i].name = (hi - lo > 1 && v[i].tag) ? xasprintf("%s.%s", v[i].tag, v[i].base)
		                                      : xstrdup(v[i].base);
	return 0;
}

static int assign_names(struct ops *ops, const char *file, struct bld_err *err)
{
	if (ops->n)
		qsort(ops->v, ops->n, sizeof(*ops->v), by_base_then_where);
	for (size_t lo = 0, hi; lo < ops->n; lo = hi) {
		for (hi = lo + 1; hi < ops->n && !strcmp(ops->v[hi].base, ops->v[lo].base); hi++)
			;
		int rc = name_group(ops->v, lo, hi, file, err);
		if (rc < 0)
			return rc;
	}
	if (ops->n)
		qsort(ops->v, ops->n, sizeof(*ops->v), by_name);
	return 0;
}

static bool is_ts_identifier(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!is_word_char((unsigned char)*s) && *s != '_' && *s != '$')
			return false;
	return true;
}

/* A TypeScript single-quoted string literal. */
static void add_ts_str(struct sbuf *sb, const char *s)
{
	sbuf_addc(sb, '\'');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\'' || c == '\\')
			sbuf_addc(sb, '\\');
		if (c < 0x20)
			sbuf_addf(sb, "\\x%02x", c);
		else
			sbuf_addc(sb, (char)c);
	}
	sbuf_addc(sb, '\'');
}

static void emit(const struct ops *ops, const char *file, struct sbuf *out)
{
	sbuf_adds(out, "// Generated by bld (bld:openapi-metadata)");
	if (file && *file)
		sbuf_addf(out, " from %s", file);
	sbuf_adds(out, ". Do not edit: it is rewritten on every build.\n\n");
	if (!ops->n) {
		sbuf_adds(out, "export const OPERATION_DETAILS = {} as const;\n");
	} else {
		sbuf_adds(out, "export const OPERATION_DETAILS = {\n");
		for (size_t i = 0; i < ops->n; i++) {
			const struct op *o = &ops->v[i];
			sbuf_adds(out, "  ");
			if (is_ts_identifier(o->name))
				sbuf_adds(out, o->name);
			else
				add_ts_str(out, o->name);
			sbuf_adds(out, ": { path: ");
			add_ts_str(out, o->path);
			sbuf_addf(out, ", method: '%s'%s },\n", o->method,
			          o->streaming ? ", streaming: true" : "");
		}
		sbuf_adds(out, "} as const;\n");
	}
	sbuf_adds(out, "\nexport type Operations = keyof typeof OPERATION_DETAILS;\n");
}

/* 1-based line and column of offset off in text. */
static void line_col(const char *text, size_t off, int *ret_line, int *ret_col)
{
	int line = 1, col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	*ret_line = line;
	*ret_col = col;
}

int gen_openapi_metadata(const char *spec, size_t len, const char *spec_file, struct sbuf *out,
                         struct bld_err *err)
{
	const char *file = spec_file ? spec_file : "";
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(spec, len, &end, false);
	if (!doc) {
		int line = 0, col = 0;
		size_t off = end && end >= spec ? (size_t)(end - spec) : 0;
		if (off > len)
			off = len;
		line_col(spec, off, &line, &col);
		return bld_err_at(err, BLD_EPARSE, file, line, col,
		                  "malformed JSON: expected an OpenAPI 3 document");
	}
	struct ops ops = {0};
	int rc = collect(doc, file, &ops, err);
	if (rc >= 0)
		rc = assign_names(&ops, file, err);
	if (rc >= 0)
		emit(&ops, file, out);
	ops_release(&ops);
	cJSON_Delete(doc);
	return rc < 0 ? rc : 0;
}
