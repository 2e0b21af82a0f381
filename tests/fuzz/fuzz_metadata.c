/* fuzz_metadata.c - libFuzzer target: the OpenAPI metadata codegen
 * (gen/metadata.c): any document gives TypeScript or an error with a code
 * from bld's table, never a crash; the output is deterministic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bld/gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf a = SBUF_INIT, b = SBUF_INIT;
	struct bld_err err;
	sbuf_init(&a);
	sbuf_init(&b);
	int rc = gen_openapi_metadata((const char *)data, size, "api.json", &a, &err);
	if (rc == 0) {
		if (gen_openapi_metadata((const char *)data, size, "api.json", &b, &err) != 0 ||
		    a.len != b.len || memcmp(a.buf, b.buf, a.len))
			abort();
	} else if (rc > -BLD_E_BASE - 1) {
		abort(); /* an errno, not one of bld's codes */
	}
	sbuf_release(&a);
	sbuf_release(&b);
	return 0;
}
