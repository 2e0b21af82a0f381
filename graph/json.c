/*
 * json.c - the strict JSONC reader for nx.json, project.json and package.json.
 *
 * Accepted is exactly what Nx 22.1.3 accepts (its parseJson: JSON.parse,
 * else jsonc-parser with allowTrailingComma), as watched with nx-oracle:
 * RFC 8259 JSON, plus // and block comments between tokens, plus one comma
 * after the last value of an object or array ("[1,]"; "[,]" and "[1,,]"
 * stay errors).  Whitespace is space, tab, CR and LF only (a BOM, NBSP, VT
 * or FF is an error, as in Nx).  Of duplicate keys the last value wins, in
 * the first key's place (JSON.parse's order).
 *
 * bld refuses, where Nx goes on (docs/nx-differences.md): bytes that are not
 * UTF-8 (Node would read U+FFFD; bld rejects 0xff, overlong forms, encoded
 * surrogates, code points past U+10FFFF and cut-off sequences), \u escapes
 * of a lone surrogate, \u0000 (a C string cannot hold it), and nesting
 * deeper than JSON_MAX_DEPTH.
 *
 * Every error is file:line:col of the offending byte.  The values of the
 * tree are recorded with their byte offsets (struct ws_json_spans), for the
 * schema checks' positions.
 */
#include "ws_int.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JSON_MAX_DEPTH 512
/* Objects with more members than this find duplicate keys through a map. */
#define JSON_MAP_MIN 16

struct jp {
	const char *s;
	size_t len, i;
	int depth;
	struct ws_json_spans *spans; /* may be NULL */
	struct sbuf str;             /* scratch for a string's bytes */
	/* the first fault */
	size_t at;
	char what[160];
	bool failed;
};

__attribute__((format(printf, 3, 4))) static int fail(struct jp *p, size_t at, const char *fmt,
                                                      ...)
{
	if (p->failed)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->what, sizeof(p->what), fmt, ap);
	va_end(ap);
	p->at = at;
	p->failed = true;
	return -1;
}

/* "unexpected 'xyz'" for the token at off (or the end of the file). */
static int unexpected(struct jp *p, size_t off, const char *expected)
{
	if (off >= p->len)
		return fail(p, off, "unexpected end of file (an unclosed object, array or string?)");
	unsigned char c = (unsigned char)p->s[off];
	if (c == 0)
		return fail(p, off, "a NUL byte (expected %s)", expected);
	if (c < 0x20 || c >= 0x80)
		return fail(p, off, "unexpected byte 0x%02x (expected %s)", c, expected);
	size_t n = 0;
	while (off + n < p->len && n < 16 && (unsigned char)p->s[off + n] >= 0x20 &&
	       (unsigned char)p->s[off + n] < 0x80)
		n++;
	return fail(p, off, "unexpected '%.*s' (expected %s)", (int)n, p->s + off, expected);
}

static size_t utf8_len(const unsigned char *s, size_t n);

/* Step over one byte or UTF-8 character of a comment; NUL bytes and invalid
 * UTF-8 are refused there too (the file must be UTF-8 text). */
static int comment_char(struct jp *p)
{
	const unsigned char *s = (const unsigned char *)p->s;
	if (s[p->i] == 0)
		return fail(p, p->i, "a NUL byte in a comment");
	size_t n = utf8_len(s + p->i, p->len - p->i);
	if (!n)
		return fail(p, p->i, "invalid UTF-8 (byte 0x%02x) in a comment", s[p->i]);
	p->i += n;
	return 0;
}

/* Skip whitespace and comments. */
static int skip_ws(struct jp *p)
{
	while (p->i < p->len) {
		char c = p->s[p->i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			p->i++;
		} else if (c == '/' && p->i + 1 < p->len && p->s[p->i + 1] == '/') {
			while (p->i < p->len && p->s[p->i] != '\n')
				if (comment_char(p) < 0)
					return -1;
		} else if (c == '/' && p->i + 1 < p->len && p->s[p->i + 1] == '*') {
			size_t start = p->i;
			p->i += 2;
			while (p->i + 1 < p->len && !(p->s[p->i] == '*' && p->s[p->i + 1] == '/'))
				if (comment_char(p) < 0)
					return -1;
			if (p->i + 1 >= p->len)
				return fail(p, start, "a comment that is never closed (no \"*/\")");
			p->i += 2;
		} else {
			break;
		}
	}
	return 0;
}

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0 (RFC 3629). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0; /* overlong */
	else if (c == 0xED)
		hi = 0x9F; /* surrogates */
	else if (c == 0xF0)
		lo = 0x90; /* overlong */
	else if (c == 0xF4)
		hi = 0x8F; /* past U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if ((s[k] & 0xC0) != 0x80)
			return 0;
	return len;
}

static void put_utf8(struct sbuf *sb, unsigned cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	sbuf_add(sb, b, n);
}

/* Four hex digits at s[i..]; -1 when they are not. */
static long hex4(const struct jp *p, size_t i)
{
	long v = 0;
	if (i + 4 > p->len)
		return -1;
	for (size_t k = i; k < i + 4; k++) {
		char c = p->s[k];
		int d = c >= '0' && c <= '9'   ? c - '0'
		        : c >= 'a' && c <= 'f' ? c - 'a' + 10
		        : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                               : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* A \u escape at p->i (the backslash); appends its character. */
static int parse_u_escape(struct jp *p)
{
	size_t at = p->i;
	long cp = hex4(p, at + 2);
	if (cp < 0)
		return fail(p, at, "a \\u escape needs four hex digits");
	p->i = at + 6;
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return fail(p, at, "\\u%04lx is half of a surrogate pair, alone (not a character)",
		            cp);
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		long lo = p->i + 1 < p->len && p->s[p->i] == '\\' && p->s[p->i + 1] == 'u'
		              ? hex4(p, p->i + 2)
		              : -1;
		if (lo < 0xDC00 || lo > 0xDFFF)
			return fail(p, at,
			            "\\u%04lx is half of a surrogate pair, alone (not a character)",
			            cp);
		p->i += 6;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	if (cp == 0)
		return fail(p, at, "\\u0000 (a NUL character) is not supported in strings");
	put_utf8(&p->str, (unsigned)cp);
	return 0;
}

static int parse_escape(struct jp *p)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	if (p->i + 1 >= p->len)
		return unexpected(p, p->len, "an escape");
	char c = p->s[p->i + 1];
	if (c == 'u')
		return parse_u_escape(p);
	const char *k = c ? strchr(from, c) : NULL;
	if (!k)
		return fail(p, p->i, "invalid escape '\\%c' (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)",
		            (unsigned char)c >= 0x20 && (unsigned char)c < 0x80 ? c : '?');
	sbuf_addc(&p->str, to[k - from]);
	p->i += 2;
	return 0;
}

/* A string at p->i (the opening quote) into p->str. */
static int parse_string(struct jp *p)
{
	sbuf_reset(&p->str);
	size_t start = p->i++;
	while (p->i < p->len) {
		const unsigned char *s = (const unsigned char *)p->s;
		size_t run = p->i;
		while (run < p->len && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' &&
		       s[run] != '\\')
			run++;
		sbuf_add(&p->str, p->s + p->i, run - p->i);
		p->i = run;
		if (p->i >= p->len)
			break;
		unsigned char c = s[p->i];
		if (c == '"') {
			p->i++;
			return 0;
		}
		if (c == '\\') {
			if (parse_escape(p) < 0)
				return -1;
		} else if (c == 0) {
			return fail(p, p->i, "a NUL byte in a string");
		} else if (c < 0x20) {
			return fail(p, p->i,
			            "unescaped control character 0x%02x in a string (write \\n, \\t "
			            "or \\u%04x)",
			            c, c);
		} else {
			size_t n = utf8_len(s + p->i, p->len - p->i);
			if (!n)
				return fail(p, p->i, "invalid UTF-8 (byte 0x%02x)", c);
			sbuf_add(&p->str, p->s + p->i, n);
			p->i += n;
		}
	}
	return fail(p, start, "a string that is never closed");
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(struct jp *p, cJSON **ret)
{
	size_t start = p->i, i = p->i;
	const char *s = p->s;
	if (i < p->len && s[i] == '-')
		i++;
	if (i >= p->len || !is_digit(s[i]))
		return unexpected(p, start, "a JSON value");
	if (s[i] == '0')
		i++;
	else
		while (i < p->len && is_digit(s[i]))
			i++;
	if (i < p->len && s[i] == '.') {
		if (++i >= p->len || !is_digit(s[i]))
			return fail(p, start, "a number needs digits after its '.'");
		while (i < p->len && is_digit(s[i]))
			i++;
	}
	if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < p->len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= p->len || !is_digit(s[i]))
			return fail(p, start, "a number needs digits in its exponent");
		while (i < p->len && is_digit(s[i]))
			i++;
	}
	char *num = xstrndup(s + start, i - start);
	*ret = cJSON_CreateNumber(strtod(num, NULL));
	free(num);
	p->i = i;
	return 0;
}

static int parse_literal(struct jp *p, cJSON **ret)
{
	static const char *const words[] = {"true", "false", "null"};
	for (int k = 0; k < 3; k++) {
		size_t n = strlen(words[k]);
		if (p->len - p->i >= n && !memcmp(p->s + p->i, words[k], n)) {
			p->i += n;
			*ret = k == 0 ? cJSON_CreateTrue() : k == 1 ? cJSON_CreateFalse() : cJSON_CreateNull();
			return 0;
		}
	}
	return unexpected(p, p->i, "a JSON value");
}

static int parse_value(struct jp *p, cJSON **ret);

/* After a member or element: 1 when the closer follows (a trailing comma
 * allowed), 0 when another item follows, -1 on error. */
static int next_item(struct jp *p, char closer, const char *what)
{
	if (skip_ws(p) < 0)
		return -1;
	if (p->i < p->len && p->s[p->i] == closer) {
		p->i++;
		return 1;
	}
	if (p->i >= p->len || p->s[p->i] != ',')
		return unexpected(p, p->i, what);
	p->i++;
	if (skip_ws(p) < 0)
		return -1;
	if (p->i < p->len && p->s[p->i] == closer) {
		p->i++;
		return 1;
	}
	return 0;
}

/* Add key: v to obj; a duplicate key's value is replaced in place. */
static void add_member(cJSON *obj, const char *key, cJSON *v, struct strmap *map, size_t n)
{
	cJSON *old = NULL;
	if (n >= JSON_MAP_MIN) {
		if (n == JSON_MAP_MIN) {
			cJSON *e;
			cJSON_ArrayForEach(e, obj) strmap_put(map, e->string, e);
		}
		old = strmap_get(map, key);
		strmap_put(map, key, v);
	} else {
		old = cJSON_GetObjectItemCaseSensitive(obj, key);
	}
	if (old)
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
	else
		cJSON_AddItemToObject(obj, key, v);
}

/* One "key": value member into obj (n members before it). */
static int parse_member(struct jp *p, cJSON *obj, struct strmap *map, size_t n)
{
	if (p->i >= p->len || p->s[p->i] != '"')
		return unexpected(p, p->i, "a key in double quotes or '}'");
	if (parse_string(p) < 0 || skip_ws(p) < 0)
		return -1;
	if (p->i >= p->len || p->s[p->i] != ':')
		return unexpected(p, p->i, "':' after the key");
	p->i++;
	char *key = xstrdup(p->str.buf);
	cJSON *v = NULL;
	int rc = skip_ws(p) < 0 ? -1 : parse_value(p, &v);
	if (rc == 0)
		add_member(obj, key, v, map, n);
	else
		cJSON_Delete(v);
	free(key);
	return rc;
}

static int parse_object(struct jp *p, cJSON **ret)
{
	cJSON *obj = *ret = cJSON_CreateObject();
	struct strmap map;
	size_t n = 0;
	int rc;
	strmap_init(&map);
	p->i++;
	if ((rc = skip_ws(p)) == 0 && p->i < p->len && p->s[p->i] == '}') {
		p->i++;
	} else {
		while (rc == 0 && (rc = parse_member(p, obj, &map, n++)) == 0)
			rc = next_item(p, '}', "',' or '}'");
	}
	strmap_release(&map);
	return rc < 0 ? -1 : 0;
}

static int parse_array(struct jp *p, cJSON **ret)
{
	cJSON *arr = *ret = cJSON_CreateArray();
	p->i++;
	if (skip_ws(p) < 0)
		return -1;
	if (p->i < p->len && p->s[p->i] == ']') {
		p->i++;
		return 0;
	}
	for (;;) {
		cJSON *v = NULL;
		if (parse_value(p, &v) < 0) {
			cJSON_Delete(v);
			return -1;
		}
		cJSON_AddItemToArray(arr, v);
		int rc = next_item(p, ']', "',' or ']'");
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
}

static void record(struct jp *p, const cJSON *v, size_t off)
{
	struct ws_json_spans *sp = p->spans;
	if (!sp)
		return;
	xgrow(&sp->v, &sp->cap, sp->n + 1, sizeof(*sp->v));
	sp->v[sp->n].value = v;
	sp->v[sp->n].off = off;
	sp->n++;
}

/* One value at p->i (whitespace already skipped); *ret is set (possibly to
 * a half-built value the caller deletes) or left NULL. */
static int parse_value(struct jp *p, cJSON **ret)
{
	size_t at = p->i;
	int rc;
	if (at >= p->len)
		return unexpected(p, at, "a JSON value");
	if (++p->depth > JSON_MAX_DEPTH)
		return fail(p, at, "nested deeper than %d levels", JSON_MAX_DEPTH);
	char c = p->s[at];
	if (c == '{') {
		rc = parse_object(p, ret);
	} else if (c == '[') {
		rc = parse_array(p, ret);
	} else if (c == '"') {
		rc = parse_string(p);
		if (rc == 0)
			*ret = cJSON_CreateString(p->str.buf);
	} else if (c == '-' || is_digit(c)) {
		rc = parse_number(p, ret);
	} else {
		rc = parse_literal(p, ret);
	}
	p->depth--;
	if (*ret)
		record(p, *ret, at);
	return rc;
}

int ws__json_parse(const char *text, size_t len, const char *file, cJSON **ret,
                   struct ws_json_spans *spans, struct bld_err *err)
{
	struct jp p = {.s = text, .len = len, .spans = spans};
	cJSON *v = NULL;
	sbuf_init(&p.str);
	if (skip_ws(&p) == 0 && parse_value(&p, &v) == 0 && skip_ws(&p) == 0 && p.i < len)
		unexpected(&p, p.i, "nothing after the value");
	sbuf_release(&p.str);
	if (p.failed) {
		int line, col;
		cJSON_Delete(v);
		if (spans)
			spans->n = 0;
		ws__text_linecol(text, p.at, &line, &col);
		return bld_err_at(err, BLD_EPARSE, file, line, col, "malformed JSON: %s", p.what);
	}
	*ret = v;
	return 0;
}

int json_parse_file_text(const char *text, size_t len, const char *file, cJSON **ret,
                         struct bld_err *err)
{
	return ws__json_parse(text, len, file, ret, NULL, err);
}

void ws__json_spans_release(struct ws_json_spans *sp)
{
	free(sp->v);
	memset(sp, 0, sizeof(*sp));
}

bool ws__json_span_of(const struct ws_json_spans *sp, const cJSON *v, size_t *ret_off)
{
	/* Newest first: a replaced duplicate's memory may have been reused. */
	for (size_t i = sp ? sp->n : 0; i-- > 0;) {
		if (sp->v[i].value == v) {
			*ret_off = sp->v[i].off;
			return true;
		}
	}
	return false;
}

void ws__text_linecol(const char *text, size_t off, int *ret_line, int *ret_col)
{
	int line = 1, col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			col++; /* count UTF-8 characters, not continuation bytes */
		}
	}
	*ret_line = line;
	*ret_col = col;
}

void ws__json_key_pos(const char *text, const char *key, int *ret_line, int *ret_col)
{
	*ret_line = *ret_col = 0;
	if (!text || !key)
		return;
	char *needle = xasprintf("\"%s\"", key);
	const char *at = strstr(text, needle);
	free(needle);
	if (at)
		ws__text_linecol(text, (size_t)(at - text), ret_line, ret_col);
}

const char *ws__json_kind(const cJSON *v)
{
	if (!v)
		return "nothing";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "an unknown value";
}

int ws__read_small(const char *path, char **ret_buf, size_t *ret_len)
{
	return ws__read_small_at(AT_FDCWD, path, ret_buf, ret_len);
}

int ws__read_small_at(int dirfd, const char *path, char **ret_buf, size_t *ret_len)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* sized to the file: a load keeps every project.json's text until it ends
	 * (10,000 projects: 41 MB of 4 KiB buffers for 0.4 KiB files) */
	struct stat st;
	size_t cap = 4096, len = 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < WS_MAX_FILE)
		cap = (size_t)st.st_size + 2;
	char *buf = xmalloc(cap);
	for (;;) {
		if (cap - len < 2)
			buf = xrealloc(buf, cap *= 2);
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? -errno : 0;
			close(fd);
			if (e) {
				free(buf);
				return e;
			}
			break;
		}
		len += (size_t)n;
		if (len > WS_MAX_FILE) {
			close(fd);
			free(buf);
			return -EFBIG;
		}
	}
	buf[len] = '\0';
	*ret_buf = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int ws__json_parse_as(const char *text, size_t len, const char *file, enum ws_schema schema,
                      cJSON **ret, struct bld_err *err)
{
	struct ws_json_spans spans = {0};
	int rc = ws__json_parse(text, len, file, ret, &spans, err);
	if (rc == 0 && (rc = ws__schema_check(*ret, schema, &spans, text, file, err)) < 0) {
		cJSON_Delete(*ret);
		*ret = NULL;
	}
	ws__json_spans_release(&spans);
	return rc;
}
