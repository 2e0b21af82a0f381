/*
 * json.c - JSON(C) parsing with file:line:col errors.
 *
 * Nx reads project.json and nx.json as JSONC: // and block comments and
 * trailing commas are allowed.  We blank those with spaces (newlines kept)
 * so that every byte offset, and so every line:col, stays true, then parse
 * with cJSON, whose failure offset becomes the reported position.
 */
#include "ws_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Skip a JSON string starting at text[i] == '"'; index just past it. */
static size_t skip_string(const char *text, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (text[i] == '\\')
			i++;
		else if (text[i] == '"')
			return i + 1;
	}
	return len;
}

static void blank_comments(char *text, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (text[i] == '"') {
			i = skip_string(text, len, i);
		} else if (text[i] == '/' && i + 1 < len && text[i + 1] == '/') {
			while (i < len && text[i] != '\n')
				text[i++] = ' ';
		} else if (text[i] == '/' && i + 1 < len && text[i + 1] == '*') {
			text[i++] = ' ';
			text[i++] = ' ';
			while (i < len && !(text[i] == '*' && i + 1 < len && text[i + 1] == '/')) {
				if (text[i] != '\n')
					text[i] = ' ';
				i++;
			}
			for (int k = 0; k < 2 && i < len; k++)
				text[i++] = ' ';
		} else {
			i++;
		}
	}
}

/* A comma is trailing when a value precedes it and a closer follows it;
 * "{,}" and "[,]" stay malformed, as Nx's JSONC parser has them. */
static void blank_trailing_commas(char *text, size_t len)
{
	size_t i = 0;
	char prev = '\0'; /* last significant character before text[i] */
	while (i < len) {
		if (text[i] == '"') {
			i = skip_string(text, len, i);
			prev = '"';
			continue;
		}
		if (text[i] == ',' && prev != '{' && prev != '[' && prev != ',') {
			size_t j = i + 1;
			while (j < len && strchr(" \t\r\n", text[j]))
				j++;
			if (j < len && (text[j] == '}' || text[j] == ']')) {
				text[i++] = ' ';
				continue;
			}
		}
		if (!strchr(" \t\r\n", text[i]))
			prev = text[i];
		i++;
	}
}

void ws__jsonc_blank(char *text, size_t len)
{
	blank_comments(text, len);
	blank_trailing_commas(text, len);
}

void ws__text_linecol(const char *text, size_t off, int *ret_line, int *ret_col)
{
	int line = 1, col = 1;
	for (size_t i = 0; i < off && text[i]; i++) {
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

/* What the parser choked on, for the message. */
static void describe_fault(const char *text, size_t len, size_t off, char *buf, size_t size)
{
	while (off < len && strchr(" \t\r\n", text[off]))
		off++;
	if (off >= len) {
		snprintf(buf, size,
		         "unexpected end of file (an unclosed object, array or string?)");
		return;
	}
	size_t n = 0;
	while (off + n < len && n < 16 && text[off + n] != '\n')
		n++;
	snprintf(buf, size, "unexpected '%.*s' (expected a JSON value, ',' or a closing bracket)",
	         (int)n, text + off);
}

int json_parse_file_text(const char *text, size_t len, const char *file, cJSON **ret,
                         struct bld_err *err)
{
	char *copy = xstrndup(text, len);
	ws__jsonc_blank(copy, len);
	const char *end = NULL;
	cJSON *json = cJSON_ParseWithLengthOpts(copy, len, &end, false);
	if (json) {
		/* Only whitespace may follow the value. */
		size_t off = (size_t)(end - copy);
		while (off < len && strchr(" \t\r\n", copy[off]))
			off++;
		if (off < len) {
			int line, col;
			ws__text_linecol(copy, off, &line, &col);
			cJSON_Delete(json);
			free(copy);
			return bld_err_at(err, BLD_EPARSE, file, line, col,
			                  "malformed JSON: unexpected text after the value");
		}
		free(copy);
		*ret = json;
		return 0;
	}
	size_t off = end && end >= copy ? (size_t)(end - copy) : 0;
	/* A closer right after a comma that no value follows ("{,}"): the
	 * comma is the fault, as Nx reports it; point at it. */
	size_t k = off;
	while (k > 0 && strchr(" \t\r\n", copy[k - 1]))
		k--;
	if (off < len && (copy[off] == '}' || copy[off] == ']') && k > 0 && copy[k - 1] == ',')
		off = k - 1;
	char what[128];
	int line, col;
	describe_fault(copy, len, off, what, sizeof(what));
	ws__text_linecol(copy, off, &line, &col);
	free(copy);
	return bld_err_at(err, BLD_EPARSE, file, line, col, "malformed JSON: %s", what);
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
	size_t cap = 4096, len = 0;
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

int ws__json_read(const char *path, const char *rel, cJSON **ret, char **ret_text,
                  struct bld_err *err)
{
	return ws__json_read_at(AT_FDCWD, path, rel, ret, ret_text, err);
}

int ws__json_read_at(int dirfd, const char *path, const char *rel, cJSON **ret, char **ret_text,
                     struct bld_err *err)
{
	char *text;
	size_t len;
	int rc = ws__read_small_at(dirfd, path, &text, &len);
	if (rc < 0)
		return bld_err_at(err, rc, rel, 0, 0, "cannot read: %s", strerror(-rc));
	rc = json_parse_file_text(text, len, rel, ret, err);
	if (rc < 0 || !ret_text)
		free(text);
	else
		*ret_text = text;
	return rc;
}
