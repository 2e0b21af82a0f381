/*
 * select.c - project selection for -p / --projects and --exclude, the way
 * Nx's findMatchingProjects reads patterns, and the glob matcher behind it.
 *
 * A pattern is, in this order of preference: the exact name of a project;
 * "tag:x" (exact tag or glob over tags), "name:x", "directory:x"; otherwise
 * it is tried as a name and, when that matches nothing, as a directory.  A
 * name that is not a glob matches every project whose name holds it as a
 * whole word (case-insensitive, word characters being letters, digits, '-'
 * and '@'), so "other" selects "@scope/other".  A glob (any of * | { } ( ) [)
 * is matched minimatch-style against names or roots.  A leading '!' removes
 * instead of adding; a first pattern with '!' starts from every project.
 * A pattern that matches nothing is not an error (Nx runs no task for it).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bld/taskgraph.h"
#include "tg_int.h"

struct ws_project *tg__project(const struct workspace *ws, const char *name)
{
	return strmap_get(&ws->by_name, name);
}

struct ws_target *tg__target(const struct ws_project *p, const char *name)
{
	for (size_t i = 0; i < p->ntargets; i++)
		if (strcmp(p->targets[i].name, name) == 0)
			return &p->targets[i];
	return NULL;
}

bool tg__is_glob(const char *s)
{
	return strpbrk(s, "*|{}()[") != NULL;
}

/* ---- glob matching ---------------------------------------------------- */

/* Match one bracket class at *pp against c; advances *pp past ']'. */
static bool class_match(const char **pp, char c)
{
	const char *p = *pp + 1;
	bool neg = (*p == '!' || *p == '^'), hit = false;
	if (neg)
		p++;
	for (bool first = true; *p && (first || *p != ']'); first = false) {
		char lo = *p++, hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			hi = p[1];
			p += 2;
		}
		if (c >= lo && c <= hi)
			hit = true;
	}
	if (*p != ']') { /* unterminated: '[' is a literal */
		*pp += 1;
		return c == '[';
	}
	*pp = p + 1;
	return hit != neg;
}

/* Match without braces; seg is true at the start of a path segment. */
static bool match_here(const char *p, const char *s, bool seg)
{
	for (;;) {
		if (seg && p[0] == '*' && p[1] == '*' && (p[2] == '/' || p[2] == '\0')) {
			if (p[2] == '\0')
				return true;
			for (const char *t = s;; t++) { /* "**\/rest": rest at any depth */
				if ((t == s || t[-1] == '/') && match_here(p + 3, t, true))
					return true;
				if (*t == '\0')
					return false;
			}
		}
		if (p[0] == '/' && p[1] == '*' && p[2] == '*' && p[3] == '\0' && *s == '\0')
			return true; /* "x/" + "**" also matches "x" */
		switch (*p) {
		case '\0':
			return *s == '\0';
		case '*':
			while (*p == '*')
				p++;
			for (const char *t = s;; t++) {
				if (match_here(p, t, false))
					return true;
				if (*t == '\0' || *t == '/')
					return false;
			}
		case '?':
			if (*s == '\0' || *s == '/')
				return false;
			break;
		case '[':
			if (*s == '\0' || *s == '/' || !class_match(&p, *s))
				return false;
			s++;
			seg = false;
			continue;
		default:
			if (*p != *s)
				return false;
		}
		seg = (*p == '/');
		p++;
		s++;
	}
}

/* The first top-level {a,b} of p: sets *open and *close, false when none. */
static bool find_braces(const char *p, const char **open, const char **close)
{
	*open = strchr(p, '{');
	if (!*open)
		return false;
	int depth = 0;
	for (const char *q = *open; *q; q++) {
		if (*q == '{')
			depth++;
		else if (*q == '}' && --depth == 0) {
			*close = q;
			return true;
		}
	}
	return false;
}

bool tg__glob_match(const char *pat, const char *s)
{
	const char *open, *close;
	if (strcmp(pat, s) == 0)
		return true;
	if (strlen(pat) > 1024) /* a limit on the work a user pattern can ask for */
		return false;
	if (!find_braces(pat, &open, &close))
		return match_here(pat, s, true);
	/* Expand the first alternation and recurse on each choice. */
	bool hit = false;
	const char *alt = open + 1;
	int depth = 0;
	for (const char *q = alt; q <= close && !hit; q++) {
		if (*q == '{')
			depth++;
		else if (*q == '}' && q != close)
			depth--;
		if ((*q == ',' && depth == 0) || q == close) {
			char *one = xasprintf("%.*s%.*s%s", (int)(open - pat), pat, (int)(q - alt),
			                      alt, close + 1);
			hit = tg__glob_match(one, s);
			free(one);
			alt = q + 1;
		}
	}
	return hit;
}

/* ---- Nx project patterns ---------------------------------------------- */

enum pat_type { PAT_NAME, PAT_TAG, PAT_DIRECTORY, PAT_UNLABELED };

static void mark(bool *sel, size_t i, bool exclude, size_t *changed)
{
	if (sel[i] == !exclude)
		return;
	sel[i] = !exclude;
	(*changed)++;
}

static bool is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '@';
}

/* Nx's non-glob name match: value as a whole word of name, any case. */
static bool name_has_word(const char *name, const char *value)
{
	size_t n = strlen(value), len = strlen(name);
	if (n == 0)
		return false;
	for (size_t i = 0; i + n <= len; i++) {
		if (strncasecmp(name + i, value, n) != 0)
			continue;
		if ((i == 0 || !is_word_char(name[i - 1])) && !is_word_char(name[i + n]))
			return true;
	}
	return false;
}

static size_t by_name(const struct workspace *ws, const char *v, bool ex, bool *sel)
{
	size_t changed = 0;
	struct ws_project *p = tg__project(ws, v);
	if (p) {
		mark(sel, (size_t)(p - ws->projects), ex, &changed);
		return changed;
	}
	bool glob = tg__is_glob(v);
	for (size_t i = 0; i < ws->nprojects; i++) {
		const char *name = ws->projects[i].name;
		if (glob ? tg__glob_match(v, name) : name_has_word(name, v))
			mark(sel, i, ex, &changed);
	}
	return changed;
}

static size_t by_directory(const struct workspace *ws, const char *v, bool ex, bool *sel)
{
	size_t changed = 0;
	for (size_t i = 0; i < ws->nprojects; i++) {
		const char *root = ws->projects[i].root[0] ? ws->projects[i].root : ".";
		if (tg__glob_match(v, root))
			mark(sel, i, ex, &changed);
	}
	return changed;
}

static size_t by_tag(const struct workspace *ws, const char *v, bool ex, bool *sel)
{
	size_t changed = 0;
	bool glob = tg__is_glob(v);
	for (size_t i = 0; i < ws->nprojects; i++) {
		const struct strvec *tags = &ws->projects[i].tags;
		for (size_t t = 0; t < tags->n; t++) {
			if (strcmp(tags->v[t], v) == 0 || (glob && tg__glob_match(v, tags->v[t]))) {
				mark(sel, i, ex, &changed);
				break;
			}
		}
	}
	return changed;
}

/* Split "!type:value" into its parts (value borrowed from pat). */
static enum pat_type parse_pattern(const struct workspace *ws, const char *pat, bool *ex,
                                   const char **value)
{
	*ex = (pat[0] == '!');
	if (*ex)
		pat++;
	*value = pat;
	if (tg__project(ws, pat))
		return PAT_NAME;
	const char *colon = strchr(pat, ':');
	if (!colon)
		return PAT_UNLABELED;
	*value = colon + 1; /* Nx drops an unknown label too */
	size_t n = (size_t)(colon - pat);
	if (n == 3 && strncmp(pat, "tag", 3) == 0)
		return PAT_TAG;
	if (n == 4 && strncmp(pat, "name", 4) == 0)
		return PAT_NAME;
	if (n == 9 && strncmp(pat, "directory", 9) == 0)
		return PAT_DIRECTORY;
	return PAT_UNLABELED;
}

static void apply_pattern(const struct workspace *ws, const char *pat, bool *sel)
{
	bool ex;
	const char *v;
	enum pat_type type = parse_pattern(ws, pat, &ex, &v);
	if (strcmp(v, "*") == 0) {
		for (size_t i = 0; i < ws->nprojects; i++)
			sel[i] = !ex;
		return;
	}
	switch (type) {
	case PAT_TAG:
		by_tag(ws, v, ex, sel);
		break;
	case PAT_NAME:
		by_name(ws, v, ex, sel);
		break;
	case PAT_DIRECTORY:
		by_directory(ws, v, ex, sel);
		break;
	case PAT_UNLABELED:
		if (by_name(ws, v, ex, sel) == 0)
			by_directory(ws, v, ex, sel);
		break;
	}
}

size_t tg__match_projects(const struct workspace *ws, const char *const *patterns, size_t n,
                          bool *sel)
{
	memset(sel, 0, ws->nprojects * sizeof(*sel));
	size_t first = 0;
	while (first < n && patterns[first][0] == '\0')
		first++;
	if (first < n && patterns[first][0] == '!')
		apply_pattern(ws, "*", sel);
	for (size_t i = first; i < n; i++)
		if (patterns[i][0] != '\0' && !str_starts(patterns[i], "nx-cloud:"))
			apply_pattern(ws, patterns[i], sel);
	size_t count = 0;
	for (size_t i = 0; i < ws->nprojects; i++)
		count += sel[i];
	return count;
}

static bool all_empty(const struct strvec *sv)
{
	for (size_t i = 0; sv && i < sv->n; i++)
		if (sv->v[i][0] != '\0')
			return false;
	return true;
}

int ws_select_projects(const struct workspace *ws, const struct strvec *patterns,
                       const struct strvec *excludes, struct strvec *ret, struct bld_err *err)
{
	bool *sel = xcalloc(ws->nprojects + 1, sizeof(*sel));
	bool *drop = xcalloc(ws->nprojects + 1, sizeof(*drop));
	if (all_empty(patterns))
		memset(sel, 1, ws->nprojects * sizeof(*sel));
	else
		tg__match_projects(ws, (const char *const *)patterns->v, patterns->n, sel);
	if (!all_empty(excludes))
		tg__match_projects(ws, (const char *const *)excludes->v, excludes->n, drop);
	struct strvec names;
	strvec_init(&names);
	for (size_t i = 0; i < ws->nprojects; i++)
		if (sel[i] && !drop[i])
			strvec_push(&names, ws->projects[i].name);
	strvec_sort(&names);
	for (size_t i = 0; i < names.n; i++)
		strvec_push_owned(ret, names.v[i]);
	free(names.v);
	free(sel);
	free(drop);
	(void)err;
	return 0;
}
