/* store.c - STUB so the tree links; cache replaces it (and spreads these over cache/*.c). */
#include <errno.h>
#include <stdlib.h>
#include "bld/cache.h"
int cache_open(const char *dir, struct cache **ret_cache, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
void cache_close(struct cache *c) { }
char *cache_default_dir(const char *ws_root) { return path_join(ws_root, ".bld/cache"); }
int hasher_new(struct workspace *ws, struct cache *c, char *const *env, struct hasher **ret, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
void hasher_free(struct hasher *h) { }
int hasher_task_hash(struct hasher *h, struct task_graph *tg, int i, cJSON **ret_manifest, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
void cache_entry_release(struct cache_entry *e) { }
int cache_lookup(struct cache *c, const char *hash, struct cache_entry *ret, struct bld_err *err) { return 0; }
int cache_restore(struct cache *c, const struct cache_entry *e, const char *ws_root, size_t *ret_restored, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
int cache_store(struct cache *c, const struct task *t, const char *ws_root, const struct strvec *outputs, const char *terminal, size_t terminal_len, uint64_t duration_ms, const cJSON *manifest, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
int cache_record_run(struct cache *c, const char *task_id, const char *hash, const char *source, int exit_code, uint64_t duration_ms) { return 0; }
void task_outputs(const struct workspace *ws, const struct task *t, struct strvec *ret) { }
int cache_cmd_ls(struct cache *c, bool json, struct sbuf *out, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
int cache_cmd_show(struct cache *c, const char *hash, bool json, struct sbuf *out, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
int cache_cmd_stats(struct cache *c, bool json, struct sbuf *out, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
int cache_cmd_prune(struct cache *c, uint64_t max_bytes, struct sbuf *out, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
int cache_cmd_why(struct cache *c, const char *task_id, const cJSON *manifest, struct sbuf *out, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
