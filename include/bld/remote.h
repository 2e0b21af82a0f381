/*
 * remote.h - the remote cache: task artifacts shared through a server a team
 * already runs (docs/cache.md, "The remote cache").
 *
 * Protocols: "http" (GET/PUT/HEAD under a base URL: nginx WebDAV,
 * bazel-remote), "nx" (Nx's self-hosted remote cache API), "turborepo"
 * (Turborepo's remote cache API).  The remote is a second backend behind the
 * local store: a fetched artifact is verified and written into the local
 * cache (cache_artifact_import), then restored from there as a local hit.
 *
 * Failures never fail a build: a server that is down, slow or answers an
 * error makes the remote go quiet for the rest of its life (local only),
 * with one warning.  The token never appears in a message.  Thread-safe.
 */
#ifndef BLD_REMOTE_H
#define BLD_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "bld/base.h"
#include "bld/cache.h"
#include "bld/err.h"

enum remote_protocol { REMOTE_HTTP, REMOTE_NX, REMOTE_TURBOREPO };

struct remote_config {
	char *url; /* base URL, no trailing '/' */
	char *token, *team, *signing_key; /* NULL when unset */
	enum remote_protocol protocol;
	bool read_only;
	long stall_s;          /* a transfer without progress this long fails */
	uint64_t upload_wait_ms; /* how long the end of a run waits for uploads */
};

/*
 * The configuration from env (the client's, NULL-terminated "K=V") over the
 * "bld" section of nx_json (may be NULL): BLD_REMOTE_CACHE_URL, _TOKEN (also
 * TURBO_TOKEN), _READ_ONLY, _PROTOCOL (http|nx|turborepo; default http),
 * _TEAM (also TURBO_TEAMID), _SIGNING_KEY, _TIMEOUT (seconds), _UPLOAD_WAIT
 * (seconds).  1 when a remote cache is configured, 0 when not, negative
 * (BLD_EUSAGE, err naming the setting) when a value is invalid.
 */
int remote_config_read(char *const *env, const cJSON *nx_json, struct remote_config *ret,
                       struct bld_err *err);
void remote_config_release(struct remote_config *cfg);

struct remote;
/* Connect lazily to the server of cfg (copied).  0 and *ret, or negative. */
int remote_new(const struct remote_config *cfg, struct remote **ret, struct bld_err *err);
/* Wait up to cfg.upload_wait_ms for the queued uploads. */
void remote_drain(struct remote *r);
/* Wait up to cfg.upload_wait_ms for queued uploads (what is left then is
 * dropped), add the counters to c
 * (may be NULL), and free; NULL is fine. */
void remote_free(struct remote *r, struct cache *c);

/*
 * Fetch the artifact of task task_id with hash and import it into c: 1 when
 * it is now a local entry, 0 on a miss (or while the remote is down),
 * BLD_ECORRUPT when the artifact was refused (err says why, nothing was
 * written), another negative code when the local cache failed.
 */
int remote_fetch(struct remote *r, struct cache *c, const char *hash, const char *task_id,
                 struct bld_err *err);
/* Start downloading the artifacts of hashes[0..n) in parallel, for the
 * remote_fetch calls that follow (each takes its download over). */
void remote_prefetch(struct remote *r, const char *const *hashes, size_t n);
/* Queue the upload of c's entry hash (exported now, sent in the
 * background); nothing in read-only mode or while the remote is down. */
int remote_upload(struct remote *r, struct cache *c, const char *hash, uint64_t duration_ms,
                  struct bld_err *err);
/* Which of hashes[0..n) the server has, asked in parallel (HEAD, or a
 * one-byte ranged GET where the protocol has no HEAD): ret[i] is 1, 0, or -1
 * when unknown (the server failed). */
void remote_probe(struct remote *r, const char *const *hashes, size_t n, int *ret);
/* Move the warnings said since the last call into sv (at most one per cause). */
void remote_take_warnings(struct remote *r, struct strvec *sv);
/* The server as shown to people: scheme, host, port, path; never credentials. */
const char *remote_display(const struct remote *r);

/* The key an artifact has on the server: the path below the base URL. */
char *remote_key_path(enum remote_protocol p, const char *hash, const char *team);

#endif
