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
#include <assert.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bld/pattern.h"
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

/* ---- Nx project patterns ---------------------------------------------- */

enum pat_type { PAT_NAME, PAT_TAG, PAT_DIRECTORY, PAT_UNLABELED };

/* The selection being built: Nx's Set of matched names, with its order. */
struct matching {
	const struct workspace *ws;
	bool *sel;
	int *order; /* indices as they were added (a removed one stays, filtered at the end) */
	size_t norder;
	bool ex;    /* the current pattern removes instead of adding */
};

static void mark(struct matching *m, size_t i, size_t *changed)
{
	if (m->sel[i] == !m->ex)
		return;
	m->sel[i] = !m->ex;
	if (!m->ex)
		m->order[m->norder++] = (int)i;
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

/* A NAMES glob; false (nothing matches) when it does not compile, as an
 * invalid pattern can select no project. */
static bool compile_name(struct pattern *g, const char *v)
{
	return pattern_init(g, v, PATTERN_NAMES, NULL) == 0;
}

static size_t by_name(struct matching *m, const char *v)
{
	size_t changed = 0;
	const struct workspace *ws = m->ws;
	struct ws_project *p = tg__project(ws, v);
	if (p) {
		mark(m, (size_t)(p - ws->projects), &changed);
		return changed;
	}
	struct pattern g;
	if (!pattern_is_glob(v, PATTERN_NAMES)) {
		for (size_t i = 0; i < ws->nprojects; i++)
			if (name_has_word(ws->projects[i].name, v))
				mark(m, i, &changed);
		return changed;
	}
	if (!compile_name(&g, v))
		return 0;
	for (size_t i = 0; i < ws->nprojects; i++)
		if (pattern_match(&g, ws->projects[i].name))
			mark(m, i, &changed);
	pattern_release(&g);
	return changed;
}

static size_t by_directory(struct matching *m, const char *v)
{
	size_t changed = 0;
	struct pattern g;
	if (!compile_name(&g, v))
		return 0;
	for (size_t i = 0; i < m->ws->nprojects; i++) {
		const char *root = m->ws->projects[i].root[0] ? m->ws->projects[i].root : ".";
		if (pattern_match(&g, root))
			mark(m, i, &changed);
	}
	pattern_release(&g);
	return changed;
}

static size_t by_tag(struct matching *m, const char *v)
{
	size_t changed = 0;
	struct pattern g;
	bool glob = pattern_is_glob(v, PATTERN_NAMES) && compile_name(&g, v);
	for (size_t i = 0; i < m->ws->nprojects; i++) {
		const struct strvec *tags = &m->ws->projects[i].tags;
		for (size_t t = 0; t < tags->n; t++) {
			if (strcmp(tags->v[t], v) == 0 || (glob && pattern_match(&g, tags->v[t]))) {
				mark(m, i, &changed);
				break;
			}
		}
	}
	if (glob)
		pattern_release(&g);
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

static void apply_pattern(struct matching *m, const char *pat)
{
	const char *v;
	enum pat_type type = parse_pattern(m->ws, pat, &m->ex, &v);
	size_t changed = 0;
	if (strcmp(v, "*") == 0) {
		for (size_t i = 0; i < m->ws->nprojects; i++)
			mark(m, i, &changed);
		return;
	}
	switch (type) {
	case PAT_TAG:
		by_tag(m, v);
		break;
	case PAT_NAME:
		by_name(m, v);
		break;
	case PAT_DIRECTORY:
		by_directory(m, v);
		break;
	case PAT_UNLABELED:
		if (by_name(m, v) == 0)
			by_directory(m, v);
		break;
	}
}

/* Keep in m->order the selected indices, each once, where it was last added. */
static size_t compact_order(struct matching *m)
{
	size_t n = m->ws->nprojects, out = 0;
	bool *seen = xcalloc(n + 1, sizeof(*seen));
	int *keep = xcalloc(n + 1, sizeof(*keep));
	for (size_t k = m->norder; k-- > 0;) { /* collected backwards */
		int i = m->order[k];
		if (m->sel[i] && !seen[i]) {
			seen[i] = true;
			keep[out++] = i;
		}
	}
	for (size_t k = 0; k < out; k++)
		m->order[k] = keep[out - 1 - k];
	free(keep);
	free(seen);
	return out;
}

size_t workspace_match_projects(const struct workspace *ws, const char *const *patterns, size_t n,
                                bool *sel, int *ret_order)
{
	struct matching m = {ws, sel, NULL, 0, false};
	memset(sel, 0, ws->nprojects * sizeof(*sel));
	size_t nonempty = 0;
	for (size_t i = 0; i < n; i++)
		nonempty += patterns[i][0] != '\0';
	if (!nonempty)
		return 0; /* Nx: no patterns, no projects */
	/* every pattern adds each project at most once, "*" included */
	m.order = xcalloc((n + 1) * (ws->nprojects + 1), sizeof(*m.order));
	if (patterns[0][0] == '!')
		apply_pattern(&m, "*");
	for (size_t i = 0; i < n; i++)
		if (patterns[i][0] != '\0' && !str_starts(patterns[i], "nx-cloud:"))
			apply_pattern(&m, patterns[i]);
	size_t count = compact_order(&m);
	if (ret_order)
		memcpy(ret_order, m.order, count * sizeof(*ret_order));
	free(m.order);
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
		workspace_match_projects(ws, (const char *const *)patterns->v, patterns->n, sel, NULL);
	if (!all_empty(excludes))
		workspace_match_projects(ws, (const char *const *)excludes->v, excludes->n, drop, NULL);
	/* ws->projects is sorted by name: the names come out sorted, no sort needed (one was
	 * 34% of `show projects` at 10,000 projects) */
	for (size_t i = 0; i < ws->nprojects; i++) {
		assert(i == 0 || strcmp(ws->projects[i - 1].name, ws->projects[i].name) < 0);
		if (sel[i] && !drop[i])
			strvec_push(ret, ws->projects[i].name);
	}
	free(sel);
	free(drop);
	(void)err;
	return 0;
}
