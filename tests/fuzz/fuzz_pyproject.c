/* fuzz_pyproject.c - libFuzzer target: the pyproject.toml reader
 * (graph/pyproject.c), which never fails: whatever it does not understand
 * becomes a note. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../graph/ws_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct ws_pyproject py;
	struct strvec notes;
	ws__pyproject_init(&py);
	strvec_init(&notes);
	ws__pyproject_parse(text, size, "p/pyproject.toml", &py, &notes);
	ws__pyproject_release(&py);
	strvec_release(&notes);
	free(text);
	return 0;
}
