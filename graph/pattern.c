/*
 * pattern.c - the one glob compiler of bld, in the dialects of pattern.h.
 *
 * PATTERN_FILES follows Nx's glob set (Rust globset with literal separators):
 * `*` and `?` never cross '/', `**` as a whole segment spans folders
 * ("a/STARSTAR" is everything below a; a leading "STARSTAR/" also matches at the top),
 * `[...]` classes (`[!...]` negated), `{a,b}` alternatives (nested), `\`
 * escapes, the extglobs `?(a|b)` `*(a|b)` `+(a|b)` `@(a|b)`, and `!(a|b)`
 * approximated as `*` within one segment.  A trailing '/' means everything
 * below.  In a set, a path matches when it matches any positive pattern (or
 * there is none) and no '!'-negated one; order does not matter.
 *
 * PATTERN_NAMES is the same syntax read as Nx's minimatch.makeRe(p, {dot:
 * true}) reads it: a string equal to the pattern always matches, a final
 * "/STARSTAR" matches anything after the part before it, slash or not ("libs/STARSTAR"
 * matches "libs", "libs/ui" and also "libsroot", as Nx selects them), and a
 * brace group without a top-level ',' is literal ("{a}" is "{a}").
 *
 * Patterns compile to POSIX extended regexes, with three fast paths that
 * cover nearly every real input: literal paths, "prefix/STARSTAR" (also with a
 * final "/STAR") and "prefix/STAR/suffix" with a literal suffix (package
 * managers' "packages/STAR/package.json").  (STAR is the asterisk, spelled out to keep C comments intact.)
 */
#include "bld/pattern.h"

#include <stdlib.h>
#include <string.h>

enum { GLOB_LITERAL, GLOB_UNDER, GLOB_SEGMENT, GLOB_RE };

static bool is_extglob(const char *s)
{
	return strchr("?+@!*", *s) && s[1] == '(';
}

bool pattern_is_glob(const char *s, enum pattern_dialect d)
{
	if (d == PATTERN_NAMES) /* Nx's GLOB_CHARACTERS (utils/globs.js) */
		return strpbrk(s, "*|{}()[") != NULL;
	for (; *s; s++) {
		if (strchr("*?[{\\", *s) || is_extglob(s))
			return true;
	}
	return false;
}

/* Index of the character closing the group opened at p[0] ('(' or '{'), or -1. */
static long group_end(const char *p)
{
	int depth = 0;
	for (long i = 0; p[i]; i++) {
		char ch = p[i];
		if (ch == '\\' && p[i + 1]) {
			i++;
		} else if (ch == '(' || ch == '{') {
			depth++;
		} else if (ch == ')' || ch == '}') {
			if (--depth == 0)
				return i;
		}
	}
	return -1;
}

static void conv(const char *p, size_t n, bool seg_start, enum pattern_dialect d,
                 struct sbuf *re);

/* Convert a group body: alternatives separated by sep at depth 0. */
static void conv_group(const char *p, size_t n, char sep, bool seg_start, enum pattern_dialect d,
                       struct sbuf *re)
{
	int depth = 0;
	size_t cut = 0;
	bool first = true;
	sbuf_addc(re, '(');
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] == '\\' && i + 1 < n) {
			i++;
			continue;
		}
		char ch = i < n ? p[i] : sep;
		if (i < n && (ch == '(' || ch == '{'))
			depth++;
		else if (i < n && (ch == ')' || ch == '}'))
			depth--;
		else if (ch == sep && depth == 0) {
			if (!first)
				sbuf_addc(re, '|');
			first = false;
			conv(p + cut, i - cut, seg_start, d, re);
			cut = i + 1;
		}
	}
	sbuf_addc(re, ')');
}

/* A bracket expression starting at p[0] == '['; returns characters consumed or 0. */
static size_t conv_bracket(const char *p, size_t n, struct sbuf *re)
{
	size_t i = 1;
	bool neg = false;
	if (i < n && (p[i] == '!' || p[i] == '^')) {
		neg = true;
		i++;
	}
	size_t body = i;
	if (i < n && p[i] == ']')
		i++;
	while (i < n && p[i] != ']')
		i++;
	if (i >= n)
		return 0;
	sbuf_addc(re, '[');
	if (neg)
		sbuf_adds(re, "^/");
	for (size_t k = body; k < i; k++) {
		if (p[k] == '\\' && k + 1 < i)
			k++;
		if (p[k] == '[' && k + 1 < i && p[k + 1] == ':') {
			sbuf_addc(re, '[');
			continue;
		}
		sbuf_addc(re, p[k]);
	}
	sbuf_addc(re, ']');
	return i + 1;
}

static void add_literal(struct sbuf *re, char ch)
{
	if (strchr(".^$+()|{}[]\\*?", ch))
		sbuf_addc(re, '\\');
	sbuf_addc(re, ch);
}

/* Whether the group body p[0..n) has a ',' outside nested groups. */
static bool has_top_comma(const char *p, size_t n)
{
	int depth = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\' && i + 1 < n)
			i++;
		else if (p[i] == '(' || p[i] == '{')
			depth++;
		else if (p[i] == ')' || p[i] == '}')
			depth--;
		else if (p[i] == ',' && depth == 0)
			return true;
	}
	return false;
}

static void conv(const char *p, size_t n, bool seg_start, enum pattern_dialect d,
                 struct sbuf *re)
{
	for (size_t i = 0; i < n; i++) {
		bool at_seg = (i == 0 && seg_start) || (i > 0 && p[i - 1] == '/');
		char ch = p[i];
		if (ch == '*' && i + 1 < n && p[i + 1] == '*' && at_seg &&
		    (i + 2 == n || p[i + 2] == '/')) {
			if (i + 2 == n) {
				sbuf_adds(re, ".*");
				i++;
			} else {
				sbuf_adds(re, "(.*/)?");
				i += 2;
			}
			continue;
		}
		if (strchr("?*+@!", ch) && i + 1 < n && p[i + 1] == '(') {
			long e = group_end(p + i + 1);
			if (e > 0 && (size_t)e + i + 1 < n) {
				if (ch == '!') {
					sbuf_adds(re, "[^/]*");
				} else {
					conv_group(p + i + 2, (size_t)e - 1, '|', false, d, re);
					if (ch != '@')
						sbuf_addc(re, ch);
				}
				i += (size_t)e + 1;
				continue;
			}
		}
		if (ch == '*') {
			while (i + 1 < n && p[i + 1] == '*')
				i++;
			sbuf_adds(re, "[^/]*");
		} else if (ch == '?') {
			sbuf_adds(re, "[^/]");
		} else if (ch == '[') {
			size_t used = conv_bracket(p + i, n - i, re);
			if (used)
				i += used - 1;
			else
				add_literal(re, ch);
		} else if (ch == '{') {
			long e = group_end(p + i);
			bool alt = e > 0 && (size_t)e + i < n &&
			           (d == PATTERN_FILES || has_top_comma(p + i + 1, (size_t)e - 1));
			if (alt) {
				conv_group(p + i + 1, (size_t)e - 1, ',', at_seg, d, re);
				i += (size_t)e;
			} else {
				add_literal(re, ch);
			}
		} else if (ch == '\\' && i + 1 < n) {
			add_literal(re, p[++i]);
		} else {
			add_literal(re, ch);
		}
	}
}

void pattern_release(struct pattern *g)
{
	if (!g)
		return;
	if (g->kind == GLOB_RE && g->src)
		regfree(&g->re);
	free(g->src);
	free(g->prefix);
	memset(g, 0, sizeof(*g));
}

/* Literal leading part of p: up to the last '/' before the first magic char,
 * or the whole (unescaped) pattern when it has none. */
static char *literal_prefix(const char *p, bool *ret_literal)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	size_t last_slash = 0;
	*ret_literal = true;
	for (const char *s = p; *s; s++) {
		if (strchr("*?[{", *s) || (strchr("+@!", *s) && s[1] == '(')) {
			*ret_literal = false;
			break;
		}
		if (*s == '\\' && s[1])
			s++;
		sbuf_addc(&sb, *s);
		if (*s == '/')
			last_slash = sb.len;
	}
	if (!*ret_literal) {
		sb.len = last_slash;
		sb.buf[sb.len] = '\0';
	}
	return sbuf_detach(&sb);
}

/* NAMES: a final unescaped "/STARSTAR" also matches the folder itself. */
static bool ends_in_slash_globstar(const char *s, size_t n)
{
	if (n < 3 || strcmp(s + n - 3, "/**"))
		return false;
	size_t bs = 0;
	while (bs < n - 3 && s[n - 4 - bs] == '\\')
		bs++;
	return bs % 2 == 0;
}

static int compile_re(struct pattern *g, struct bld_err *err)
{
	struct sbuf re = SBUF_INIT;
	sbuf_init(&re);
	sbuf_addc(&re, '^');
	size_t n = strlen(g->src);
	if (g->under_self) { /* "x/STARSTAR" as "x" then anything, as makeRe reads it */
		conv(g->src, n - 3, true, g->dialect, &re);
		sbuf_adds(&re, ".*");
	} else {
		conv(g->src, n, true, g->dialect, &re);
	}
	sbuf_addc(&re, '$');
	int r = regcomp(&g->re, re.buf, REG_EXTENDED | REG_NOSUB);
	sbuf_release(&re);
	if (r)
		return -1;
	g->kind = GLOB_RE;
	return 0;
}

/* "STAR" or "STAR/literal": one segment of anything, then (optionally) a literal
 * rest with no magic character at all. */
static bool one_segment_then_literal(const char *rest)
{
	if (rest[0] != '*' || (rest[1] && rest[1] != '/'))
		return false;
	for (const char *s = rest + 1; *s; s++)
		if (strchr("*?[{\\+@!(", *s))
			return false;
	return true;
}

int pattern_init(struct pattern *g, const char *pattern, enum pattern_dialect d,
                 struct bld_err *err)
{
	memset(g, 0, sizeof(*g));
	size_t n = strlen(pattern);
	if (n > PATTERN_MAX_LEN)
		return bld_err_set(err, BLD_ESCHEMA, "glob pattern \"%.40s...\" is %zu bytes long; "
		                   "at most %d", pattern, n, PATTERN_MAX_LEN);
	g->dialect = d;
	bool dir = d == PATTERN_FILES && n && pattern[n - 1] == '/';
	g->src = dir ? xasprintf("%s**", pattern) : xstrdup(pattern);
	g->under_self = d == PATTERN_NAMES && ends_in_slash_globstar(g->src, n);
	bool literal;
	g->prefix = literal_prefix(g->src, &literal);
	g->plen = strlen(g->prefix);
	if (literal) {
		g->kind = GLOB_LITERAL;
		return 0;
	}
	const char *rest = g->src + strlen(g->prefix);
	bool prefix_ok = !*g->prefix || str_ends(g->prefix, "/");
	if (prefix_ok && (!strcmp(rest, "**") || !strcmp(rest, "**/*"))) {
		g->kind = GLOB_UNDER;
		return 0;
	}
	if (prefix_ok && !g->under_self && one_segment_then_literal(rest)) {
		g->kind = GLOB_SEGMENT;
		return 0;
	}
	if (compile_re(g, err) < 0) {
		free(g->src);
		free(g->prefix);
		memset(g, 0, sizeof(*g));
		return bld_err_set(err, BLD_ESCHEMA, "invalid glob pattern \"%s\"", pattern);
	}
	return 0;
}

bool pattern_match(const struct pattern *g, const char *path)
{
	size_t pl = g->plen;
	if (g->dialect == PATTERN_NAMES && !strcmp(g->src, path))
		return true; /* Nx: item === pattern (also "\\x", whose literal is "x") */
	switch (g->kind) {
	case GLOB_LITERAL:
		return !strcmp(g->prefix, path);
	case GLOB_UNDER:
		if (g->under_self) /* NAMES "x/STARSTAR": "x" and anything after it */
			return pl && !strncmp(path, g->prefix, pl - 1);
		return !strncmp(path, g->prefix, pl) && path[pl] != '\0';
	case GLOB_SEGMENT: { /* prefix, a segment ([^/]*), then the literal after the STAR */
		if (strncmp(path, g->prefix, pl))
			return false;
		const char *seg_end = strchrnul(path + pl, '/');
		return !strcmp(seg_end, g->src + pl + 1);
	}
	default:
		if (g->under_self && pl) /* the prefix's final '/' is optional */
			return !strncmp(path, g->prefix, pl - 1) &&
			       regexec(&g->re, path, 0, NULL, 0) == 0;
		return !strncmp(path, g->prefix, pl) && regexec(&g->re, path, 0, NULL, 0) == 0;
	}
}

int pattern_match_once(const char *pat, const char *s, enum pattern_dialect d)
{
	struct pattern g;
	if (pattern_init(&g, pat, d, NULL) < 0)
		return -1;
	bool m = pattern_match(&g, s);
	pattern_release(&g);
	return m;
}

int pattern_set_init(struct pattern_set *gs, const struct strvec *patterns, struct bld_err *err)
{
	memset(gs, 0, sizeof(*gs));
	gs->pos = xcalloc(patterns->n + 1, sizeof(*gs->pos));
	gs->neg = xcalloc(patterns->n + 1, sizeof(*gs->neg));
	for (size_t i = 0; i < patterns->n; i++) {
		const char *p = patterns->v[i];
		bool neg = *p == '!';
		struct pattern *g = neg ? &gs->neg[gs->nneg] : &gs->pos[gs->npos];
		int r = pattern_init(g, p + neg, PATTERN_FILES, err);
		if (r < 0) {
			pattern_set_release(gs);
			return r;
		}
		if (neg)
			gs->nneg++;
		else
			gs->npos++;
	}
	return 0;
}

void pattern_set_release(struct pattern_set *gs)
{
	for (size_t i = 0; i < gs->npos; i++)
		pattern_release(&gs->pos[i]);
	for (size_t i = 0; i < gs->nneg; i++)
		pattern_release(&gs->neg[i]);
	free(gs->pos);
	free(gs->neg);
	memset(gs, 0, sizeof(*gs));
}

bool pattern_set_match(const struct pattern_set *gs, const char *path)
{
	bool pos = gs->npos == 0;
	for (size_t i = 0; !pos && i < gs->npos; i++)
		pos = pattern_match(&gs->pos[i], path);
	if (!pos)
		return false;
	for (size_t i = 0; i < gs->nneg; i++)
		if (pattern_match(&gs->neg[i], path))
			return false;
	return true;
}
