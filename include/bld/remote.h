/*
 * remote.h - the remote cache: task artifacts shared through a server a team
 * already runs (docs/cache.md, "The remote cache").
 *
 * Protocols: "http" (GET/PUT/HEAD under a base URL: nginx WebDAV,
 * bazel-remote), "nx" (Nx's self-hosted remote cache API), "turborepo"
 * (Turborepo's remote cache API).  Each is a store backend (store.h) beside
 * the local store: a hit is copied into the local store (store_copy, which
 * verifies it first), then restored from there as a local hit.
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
#include "bld/store.h"
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

/*
 * A link: what may be kept across runs for one configuration (a resident
 * daemon's workspace host keeps them): the configuration and its transport
 * (one libcurl multi handle and its thread, so connections are reused).
 * Thread-safe.  A run uses a link through a backend of its own
 * (remote_open): what degrades (a server that is down, a read-only token),
 * the warnings and the counters belong to that run, so the next run tries a
 * failed server again.
 */
struct remote_link;
/* A link for cfg (copied), connecting lazily.  0 and *ret, or negative. */
int remote_link_new(const struct remote_config *cfg, struct remote_link **ret,
                    struct bld_err *err);
/* Whether l was made for a configuration equal to cfg (every field). */
bool remote_link_is(const struct remote_link *l, const struct remote_config *cfg);
/* Stop l's transport (transfers still running fail; their callbacks run
 * now) and free it; no backend of it may be used any more.  NULL is fine. */
void remote_link_free(struct remote_link *l);

/*
 * A backend (store.h) over link l (borrowed: it must outlive the backend's
 * use; uploads still running when the backend is freed keep what they need
 * until they end): lookup downloads an artifact and verifies all of it
 * (signature, frame, manifest, every file); put_entry uploads one in the
 * background; has asks in parallel (HEAD, or a one-byte ranged GET where
 * the protocol has no HEAD); flush waits up to cfg.upload_wait_ms for this
 * backend's uploads.  Free with store_backend_free (flushes first).
 */
int remote_open(struct remote_link *l, struct store_backend **ret, struct bld_err *err);
/* remote_open over a link of its own for cfg (copied), freed with it. */
int remote_new(const struct remote_config *cfg, struct store_backend **ret,
               struct bld_err *err);

/* The key an artifact has on the server: the path below the base URL. */
char *remote_key_path(enum remote_protocol p, const char *hash, const char *team);

#endif
