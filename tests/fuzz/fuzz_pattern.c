/* fuzz_pattern.c - libFuzzer target: the glob and pattern compiler
 * (graph/pattern.c).  The input is a pattern, a NUL, then strings (NUL
 * separated) to match; the first byte chooses the dialect.  Compiling either
 * succeeds or is BLD_ESCHEMA; matching never crashes; a literal pattern
 * matches itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bld/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum pattern_dialect d = data[0] & 1 ? PATTERN_NAMES : PATTERN_FILES;
	char *buf = malloc(size);
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	const char *src = buf, *end = buf + size - 1;
	struct pattern p;
	struct bld_err err;
	int rc = pattern_init(&p, src, d, &err);
	if (rc == 0) {
		for (const char *s = src + strlen(src) + 1; s < end; s += strlen(s) + 1)
			pattern_match(&p, s);
		pattern_match(&p, "");
		if (!pattern_is_glob(src, d) && *src && d == PATTERN_NAMES &&
		    !pattern_match(&p, src))
			abort();
		pattern_release(&p);
	} else if (rc != BLD_ESCHEMA) {
		abort();
	}
	pattern_is_glob(src, PATTERN_FILES);
	pattern_is_glob(src, PATTERN_NAMES);
	/* the same text as a set of FILES globs, one per NUL-separated piece */
	struct strvec pats;
	strvec_init(&pats);
	for (const char *s = src; s < end; s += strlen(s) + 1)
		strvec_push(&pats, s);
	struct pattern_set set;
	if (pattern_set_init(&set, &pats, &err) == 0) {
		pattern_set_match(&set, "libs/a/src/index.ts");
		pattern_set_match(&set, src);
		pattern_set_release(&set);
	}
	strvec_release(&pats);
	free(buf);
	return 0;
}
