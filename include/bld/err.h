/*
 * err.h - bld's one error model.
 *
 * Functions return int: >= 0 on success, negative on failure.  System errors
 * are -errno; bld's own failures are the negative codes of the table below,
 * all below BLD_E_BASE so they never collide with errno values.  The human
 * detail (file, line, column, what was expected) goes into a caller-provided
 * struct bld_err passed last.  Library code never prints.
 */
#ifndef BLD_ERR_H
#define BLD_ERR_H

#include <stddef.h>

#define BLD_E_BASE 10000

/* X(name, message) */
#define BLD_ERRNO_MAP(X)                                                      \
	X(PARSE, "malformed input")                                               \
	X(SCHEMA, "unexpected value")                                             \
	X(NOWORKSPACE, "no nx.json found in this folder or any parent")            \
	X(NOPROJECT, "unknown project")                                           \
	X(NOTARGET, "unknown target")                                             \
	X(CYCLE, "dependency cycle")                                              \
	X(EXECUTOR, "unsupported executor")                                       \
	X(USAGE, "usage error")                                                   \
	X(PROTO, "protocol error")                                                \
	X(VERSION, "protocol version mismatch")                                   \
	X(CACHE, "cache error")                                                   \
	X(CORRUPT, "corrupted cache entry")                                       \
	X(UNSAFE, "path escapes the workspace")                                   \
	X(GENERATOR, "generator error")                                           \
	X(EXISTS, "already exists")                                               \
	X(CANCELED, "canceled")                                                   \
	X(TOOBIG, "size limit exceeded")                                          \
	X(REMOTE, "remote cache error")

enum bld_errno_index {
#define X(name, msg) BLD_I_##name,
	BLD_ERRNO_MAP(X)
#undef X
	BLD_I__COUNT
};

/* bld's own codes: BLD_EPARSE == -10001, and so on; never an errno value. */
enum bld_errno {
#define X(name, msg) BLD_E##name = -(BLD_E_BASE + 1 + BLD_I_##name),
	BLD_ERRNO_MAP(X)
#undef X
};

/* Detail of a failure, filled by the callee, read by the one caller who reports it. */
struct bld_err {
	int code;          /* the negative code that was returned */
	char file[512];    /* workspace-relative file, or "" */
	int line, col;     /* 1-based; 0 when unknown */
	char msg[1024];    /* what was expected, what was found */
};

/* Message of a code: -errno or BLD_E*; static string. */
const char *bld_strerror(int code);
/* Fill err (may be NULL) and return code; printf-style message. */
int bld_err_set(struct bld_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like bld_err_set with a file and position. */
int bld_err_at(struct bld_err *err, int code, const char *file, int line, int col,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Format as "file:line:col: msg" (or just msg) into buf. */
void bld_err_format(const struct bld_err *err, char *buf, size_t size);
/* Reset to "no error". */
void bld_err_clear(struct bld_err *err);

#endif
