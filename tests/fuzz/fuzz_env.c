/* fuzz_env.c - libFuzzer target: .env file parsing (daemon/env.c's
 * dotenv_apply, with ${X} expansion) into an environment that already holds
 * a few variables; every resulting entry is "K=V". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct envset e;
	envset_init(&e);
	envset_put(&e, "HOME=/home/u");
	envset_put(&e, "A=1");
	dotenv_apply(&e, text, size & 1);
	char **arr = envset_array(&e);
	for (size_t i = 0; arr[i]; i++)
		if (!strchr(arr[i], '='))
			abort();
	envset_release(&e);
	free(text);
	return 0;
}
