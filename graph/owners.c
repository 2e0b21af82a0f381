/*
 * owners.c - the owner map: which project owns each file of the workspace.
 *
 * A path belongs to the project with the deepest root that holds it (Nx's
 * findProjectForPath over its project root map); the root project (root "")
 * holds whatever no other project does.  workspace_load builds the map once,
 * after the walk, so the hasher, the engine (the project of the client's
 * cwd) and affected all read one answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws_int.h"

/* Owner of path by its own name and then each parent folder; -1 when none. */
static int owner_walk(const struct strmap *roots, char *buf)
{
	for (;;) {
		void *v = strmap_get(roots, buf);
		if (v)
			return (int)(intptr_t)v - 1;
		char *s = strrchr(buf, '/');
		if (!s)
			break;
		*s = '\0';
	}
	void *top = strmap_get(roots, "");
	return top ? (int)(intptr_t)top - 1 : -1;
}

int workspace_owner(const struct workspace *ws, const char *path)
{
	while (str_starts(path, "./"))
		path += 2;
	char *buf = xstrdup(path);
	size_t n = strlen(buf);
	while (n && buf[n - 1] == '/')
		buf[--n] = '\0';
	int owner = owner_walk(&ws->by_root, buf);
	free(buf);
	return owner;
}

void workspace_owners_build(struct workspace *ws)
{
	workspace_owners_release(ws);
	strmap_init(&ws->by_root);
	for (size_t p = 0; p < ws->nprojects; p++)
		strmap_put(&ws->by_root, ws->projects[p].root, (void *)(intptr_t)(p + 1));
	ws->file_owner = xcalloc(ws->files.n + 1, sizeof(*ws->file_owner));
	ws->project_files = xcalloc(ws->nprojects + 1, sizeof(*ws->project_files));
	ws->nproject_files = xcalloc(ws->nprojects + 1, sizeof(*ws->nproject_files));
	size_t *caps = xcalloc(ws->nprojects + 1, sizeof(*caps));
	struct sbuf buf = SBUF_INIT;
	sbuf_init(&buf);
	for (size_t f = 0; f < ws->files.n; f++) {
		sbuf_reset(&buf);
		sbuf_adds(&buf, ws->files.v[f]);
		char *slash = strrchr(buf.buf, '/'); /* a file is never a root: start at its folder */
		*(slash ? slash : buf.buf) = '\0';
		int owner = owner_walk(&ws->by_root, buf.buf);
		ws->file_owner[f] = owner;
		if (owner < 0)
			continue;
		xgrow(&ws->project_files[owner], &caps[owner], ws->nproject_files[owner] + 1,
		      sizeof(int));
		ws->project_files[owner][ws->nproject_files[owner]++] = (int)f;
	}
	sbuf_release(&buf);
	free(caps);
}

void workspace_owners_release(struct workspace *ws)
{
	for (size_t p = 0; ws->project_files && p < ws->nprojects; p++)
		free(ws->project_files[p]);
	free(ws->project_files);
	free(ws->nproject_files);
	free(ws->file_owner);
	strmap_release(&ws->by_root);
	ws->project_files = NULL;
	ws->nproject_files = NULL;
	ws->file_owner = NULL;
}
