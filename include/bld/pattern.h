/*
 * pattern.h - the one glob compiler of bld, with the dialects Nx really
 * uses (watched in Nx 22.1.3; the rules are in docs/patterns.md).
 *
 *   PATTERN_FILES  file globs of inputs and outputs, matched against
 *                  workspace-relative paths (Nx's native globset, literal
 *                  separators; a trailing '/' means everything below).
 *   PATTERN_NAMES  project names, project roots, tags, target names and
 *                  targetDefaults keys (Nx's minimatch with dot: true, as
 *                  findMatchingProjects and readTargetDefaultsForTarget
 *                  call it: the string equal to the pattern matches, a final
 *                  "/STARSTAR" matches anything after what precedes it ("libs/STARSTAR"
 *                  matches "libsroot"), a brace group without a comma is literal).
 *
 * A compiled pattern is a small value (struct pattern) the caller embeds;
 * compile once, match many times (the hot path of hashing).
 * (STAR is the asterisk, spelled out to keep C comments intact.)
 */
#ifndef BLD_PATTERN_H
#define BLD_PATTERN_H

#include <regex.h>
#include <stdbool.h>

#include "bld/base.h"
#include "bld/err.h"

enum pattern_dialect {
	PATTERN_FILES,
	PATTERN_NAMES,
};

/* The longest pattern compiled: longer ones are BLD_ESCHEMA. */
#define PATTERN_MAX_LEN 4096

struct pattern {
	char *src;    /* the pattern as compiled (FILES: "x/" became "x/STARSTAR") */
	char *prefix; /* literal leading part: a match starts with it */
	size_t plen;  /* strlen(prefix) */
	int kind;     /* literal, prefix-and-below, or regex (pattern.c) */
	bool under_self; /* NAMES final "/STARSTAR": anything after the part before it */
	enum pattern_dialect dialect;
	regex_t re;
};

/* True when s is a glob in dialect d: FILES - any of * ? [ { \ or an
 * extglob "?(" "+(" "@(" "!("; NAMES - Nx's isGlobPattern, any of * | { } ( ) [
 * (so "ui?kit" is a plain name to Nx). */
bool pattern_is_glob(const char *s, enum pattern_dialect d);

/* Compile src into *ret; 0, or BLD_ESCHEMA (too long, not a valid regex)
 * with *ret zeroed.  Release with pattern_release. */
int pattern_init(struct pattern *ret, const char *src, enum pattern_dialect d,
                 struct bld_err *err);
/* Whether s matches the compiled pattern. */
bool pattern_match(const struct pattern *p, const char *s);
/* Free what pattern_init allocated; a zeroed pattern is fine. */
void pattern_release(struct pattern *p);
/* One pattern against one string: 1, 0, or -1 when the pattern is invalid. */
int pattern_match_once(const char *pat, const char *s, enum pattern_dialect d);

/* A set of FILES globs: a path matches when it matches any positive
 * pattern (or there is none) and no '!'-negated one; order does not matter. */
struct pattern_set {
	struct pattern *pos, *neg;
	size_t npos, nneg;
};

/* Compile every pattern of patterns; 0 or BLD_ESCHEMA (nothing to release). */
int pattern_set_init(struct pattern_set *ret, const struct strvec *patterns,
                     struct bld_err *err);
bool pattern_set_match(const struct pattern_set *set, const char *path);
void pattern_set_release(struct pattern_set *set);

#endif
