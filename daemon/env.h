/*
 * env.h - building a task's environment: the client's variables, .env files
 * (dotenv syntax with ${X} expansion), the executor's env option and Nx's
 * task variables.  Pure; unit-tested.
 */
#ifndef BLD_ENV_H
#define BLD_ENV_H

#include <stdbool.h>

#include "bld/base.h"

/* An environment under construction: "K=V" strings with a key index. */
struct envset {
	struct strvec kv;  /* owned "K=V" strings; removed entries are NULL-free (compacted) */
	struct strmap idx; /* key -> index + 1 into kv (stored as a pointer-sized int) */
	char **arr;        /* NULL-terminated view for spawn, rebuilt by envset_array */
};

void envset_init(struct envset *e);
void envset_release(struct envset *e);
/* Add every "K=V" of env (NULL-terminated, borrowed). */
void envset_add_all(struct envset *e, char *const *env);
/* Value of key or NULL (borrowed until the next change). */
const char *envset_get(const struct envset *e, const char *key);
/* Set key=val; when override is false an existing key is kept. */
void envset_set(struct envset *e, const char *key, const char *val, bool override);
/* Add "K=V" (s borrowed), overriding. */
void envset_put(struct envset *e, const char *kv);
/*
 * Apply dotenv text: KEY=VALUE lines, optional "export ", # comments, single
 * quotes literal, double quotes with \n escapes, $X and ${X} (and ${X:-d})
 * expanded against e.  Existing keys win unless override.  Returns the number
 * of variables set.
 */
int dotenv_apply(struct envset *e, const char *text, bool override);
/* NULL-terminated array of "K=V" (owned by e, valid until the next change). */
char **envset_array(struct envset *e);

#endif
