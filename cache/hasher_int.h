/*
 * hasher_int.h - the task hasher's internals (hash.c, inputs.c): a task's
 * inputs expanded into hash instructions, per-request hashing state, and
 * the file-hash memo.  The graph types stop here; the store's files
 * (cache_int.h) never see them.
 */
#ifndef BLD_HASHER_INT_H
#define BLD_HASHER_INT_H

#include "cache_int.h"

#include "bld/cache.h"

/* ---- inputs.c: a task's inputs expanded, Nx-style, into hash instructions ---- */

enum cache_instr_kind {
	INS_PFILES,    /* files of one project matching globs (project file map) */
	INS_WFILES,    /* workspace files matching globs */
	INS_CONFIG,    /* a project's configuration (root, tags, targets, namedInputs) */
	INS_TSCONFIG,  /* root tsconfig without compilerOptions.paths */
	INS_ENV,       /* an environment variable's value */
	INS_RUNTIME,   /* a command's output */
	INS_EXTERNALS, /* external dependencies: the lock files (see docs/cache.md) */
	INS_DEPOUT,    /* files of a dependency task's outputs matching a glob */
};

struct cache_instr {
	enum cache_instr_kind kind;
	int project;         /* INS_PFILES, INS_CONFIG */
	int dep_task;        /* INS_DEPOUT */
	struct strvec globs; /* INS_PFILES, INS_WFILES (resolved, sorted); INS_EXTERNALS names */
	char *arg;           /* INS_ENV name, INS_RUNTIME command, INS_DEPOUT glob */
	char *key;           /* unique, stable description: the manifest key */
};

/* The instructions of one task, deduplicated by key. */
struct cache_plan {
	struct cache_instr *v;
	size_t n, cap;
	struct strmap keys; /* key -> index + 1 */
};

/* Per-request hashing state (struct hasher of cache.h). */
struct hasher {
	struct workspace *ws; /* borrowed */
	struct cache *c;      /* borrowed, may be NULL */
	char *const *env;     /* borrowed */
	pthread_mutex_t lock;
	char (*fhash)[33];       /* per ws file: content hash, "" until needed */
	struct strmap evals;     /* instruction key -> struct cache_eval * */
	struct cache_memo *memo; /* borrowed, may be NULL */
	uint64_t generation;     /* of ws, for the memo's task hashes */
	uint64_t memo_epoch;     /* memo's epoch when h took it: task hashes are kept
	                          * only while it holds (h keeps what it read) */
};

/* File hashes across requests (see cache.h). */
struct cache_memo {
	pthread_mutex_t lock;
	struct strmap hashes; /* relative path -> char[33] (owned), NULL when forgotten */
	uint64_t epoch;       /* counts forgets and clears */
	struct strmap tasks;  /* task key -> struct memo_task (owned): task hashes */
	uint64_t wide;        /* counts clears and forgets of root-level or unowned paths */
	struct strmap owned;  /* project name -> forgets of its files (uintptr_t) */
};
/* A task hash kept across requests: valid for one workspace generation while
 * nothing it read was forgotten: no root-level or unowned path (wide), no file
 * of the projects whose files it read, and -- when it matched workspace globs
 * anywhere -- nothing at all (epoch).  Every input it read is a watched file. */
struct memo_task {
	uint64_t generation, wide, epoch; /* epoch 0: not asked */
	size_t nprojects, capprojects;
	struct memo_owned {
		char *project; /* owned */
		uint64_t forgets;
	} *projects;
	char hash[33];
};
/* The memo's hash of rel into out; false when it has none. */
bool cache__memo_get(struct cache_memo *m, const char *rel, char out[33]);
/* The memo's epoch now: take it before reading a file whose hash is put. */
uint64_t cache__memo_epoch(struct cache_memo *m);
/* Add rel's hash, read after epoch was taken; dropped when anything was
 * forgotten since (the file may have changed after it was read, and its
 * watcher event been applied before this put). */
void cache__memo_put(struct cache_memo *m, const char *rel, const char *hash, uint64_t epoch);

/* The evaluated value of one instruction, cached per request. */
struct cache_eval {
	char hash[33];
	struct sbuf files; /* file sets: "<hash> <path>\n" per file, path order */
};

void cache__plan_init(struct cache_plan *p);
void cache__plan_release(struct cache_plan *p);
/* Expand task i's inputs into instructions (Nx semantics); 0 or negative (err). */
int cache__plan_task(struct hasher *h, const struct task_graph *tg, int i, struct cache_plan *plan,
                     struct bld_err *err);
/* Index of a project by name, or -1. */
int cache__project_index(const struct hasher *h, const char *name);

#endif
