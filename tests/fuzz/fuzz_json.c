/* fuzz_json.c - libFuzzer target: the strict JSONC reader (graph/json.c).
 * Any input either parses, with a span for every value, or fails with a
 * position inside the text; never a crash, a leak or undefined behaviour. */
#include <stdint.h>
#include <stdlib.h>

#include "../../graph/ws_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every value of the tree has a span inside the text. */
static void check_spans(const cJSON *v, const struct ws_json_spans *sp, size_t size)
{
	size_t off;
	if (!ws__json_span_of(sp, v, &off) || off >= size)
		abort();
	for (const cJSON *c = v->child; c; c = c->next)
		check_spans(c, sp, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_json_spans sp = {0};
	struct bld_err err;
	cJSON *j = NULL;
	bld_err_clear(&err);
	int rc = ws__json_parse((const char *)data, size, "f.json", &j, &sp, &err);
	if (rc == 0) {
		check_spans(j, &sp, size);
		cJSON_Delete(j);
	} else if (rc != BLD_EPARSE || err.line < 1 || err.col < 1 || j) {
		abort();
	}
	ws__json_spans_release(&sp);
	return 0;
}
