/*
 * view.c - the workspace as at another commit, as a view over the disk
 * (struct ws_view: the paths whose contents differ there, or that do not
 * exist there), and the one place where a workspace load reads a file:
 * through the view when it names the path, else from the disk.
 *
 * --by-inputs loads the workspace and hashes its tasks through the view of
 * the merge-base (graph/affected.c builds it from git's trees), so the
 * hashes at the merge-base come from the same code as today's.
 */
#include "ws_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void ws_view_init(struct ws_view *v)
{
	strmap_init(&v->files);
}

void ws_view_release(struct ws_view *v)
{
	if (!v)
		return;
	size_t it = 0;
	void *val;
	while (strmap_next(&v->files, &it, NULL, &val)) {
		struct ws_view_file *f = val;
		free(f->data);
		free(f);
	}
	strmap_release(&v->files);
}

void ws_view_put(struct ws_view *v, const char *rel, char *data, size_t len, bool link)
{
	struct ws_view_file *f = xcalloc(1, sizeof(*f));
	f->data = data;
	f->len = data ? len : 0;
	f->link = link;
	struct ws_view_file *old = strmap_put(&v->files, rel, f);
	if (old) {
		free(old->data);
		free(old);
	}
}

const struct ws_view_file *ws_view_get(const struct ws_view *v, const char *rel)
{
	return v ? strmap_get(&v->files, rel) : NULL;
}

int ws__src_read(const struct ws_src *src, const char *rel, char **ret_buf, size_t *ret_len)
{
	const struct ws_view_file *f = ws_view_get(src->view, rel);
	if (!f)
		return ws__read_small_at(src->root_fd, rel, ret_buf, ret_len);
	if (!f->data)
		return -ENOENT;
	if (f->len > WS_MAX_FILE)
		return -EFBIG;
	*ret_buf = xmalloc(f->len + 1);
	memcpy(*ret_buf, f->data, f->len);
	(*ret_buf)[f->len] = '\0';
	if (ret_len)
		*ret_len = f->len;
	return 0;
}

int ws__src_json(const struct ws_src *src, const char *rel, enum ws_schema schema, cJSON **ret,
                 char **ret_text, struct bld_err *err)
{
	char *text;
	size_t len;
	int rc = ws__src_read(src, rel, &text, &len);
	if (rc < 0)
		return bld_err_at(err, rc, rel, 0, 0, "cannot read: %s", strerror(-rc));
	rc = ws__json_parse_as(text, len, rel, schema, ret, err);
	if (rc < 0 || !ret_text)
		free(text);
	else
		*ret_text = text;
	return rc;
}
