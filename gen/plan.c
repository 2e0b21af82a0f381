/*
 * plan.c - what generators share: template rendering, Nx-style JSON printing,
 * and the write plan (build every file in memory, check all, then write all).
 * See gen_int.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_int.h"

static const struct gen_template *template_find(const char *name)
{
	for (size_t i = 0; i < gen__ntemplates; i++)
		if (!strcmp(gen__templates[i].name, name))
			return &gen__templates[i];
	return NULL;
}

static bool var_true(const struct strmap *vars, const char *key)
{
	const char *v = strmap_get(vars, key);
	return v && *v && strcmp(v, "false") != 0;
}

struct render {
	const char *tmpl, *text, *end;
	const struct strmap *vars;
	struct bld_err *err;
};

/* Render text up to the closing tag of section close (or the end when NULL);
 * *pos advances past it.  Output goes to out unless out is NULL (skipped section). */
static int render_span(struct render *r, const char **pos, const char *close, struct sbuf *out)
{
	const char *p = *pos;
	while (p < r->end) {
		const char *open = strstr(p, "{{");
		if (!open || open >= r->end) {
			if (out)
				sbuf_add(out, p, (size_t)(r->end - p));
			p = r->end;
			break;
		}
		if (out)
			sbuf_add(out, p, (size_t)(open - p));
		const char *shut = strstr(open + 2, "}}");
		if (!shut)
			return bld_err_set(r->err, BLD_EGENERATOR, "template %s: unclosed '{{'",
			                   r->tmpl);
		char kind = open[2];
		bool section = kind == '#' || kind == '^' || kind == '/';
		char *key = xstrndup(open + 2 + section, (size_t)(shut - open - 2 - section));
		p = shut + 2;
		/* A section tag alone on its line takes the line ending with it. */
		if (section && (open == r->text || open[-1] == '\n') && *p == '\n')
			p++;
		int rc = 0;
		if (kind == '/') {
			rc = close && !strcmp(key, close)
			         ? 1
			         : bld_err_set(r->err, BLD_EGENERATOR,
			                       "template %s: unexpected {{/%s}}", r->tmpl, key);
		} else if (section) {
			bool keep = var_true(r->vars, key) == (kind == '#');
			rc = render_span(r, &p, key, keep ? out : NULL);
		} else if (out) {
			const char *v = strmap_get(r->vars, key);
			if (v)
				sbuf_adds(out, v);
			else
				rc = bld_err_set(r->err, BLD_EGENERATOR,
				                 "template %s: no value for {{%s}}", r->tmpl, key);
		}
		free(key);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			*pos = p;
			return 0;
		}
	}
	*pos = p;
	if (close)
		return bld_err_set(r->err, BLD_EGENERATOR, "template %s: {{#%s}} is never closed",
		                   r->tmpl, close);
	return 0;
}

int gen__render(const char *name, const struct strmap *vars, struct sbuf *out, struct bld_err *err)
{
	const struct gen_template *t = template_find(name);
	if (!t)
		return bld_err_set(err, BLD_EGENERATOR, "no embedded template %s", name);
	struct render r = {name, t->text, t->text + t->len, vars, err};
	const char *pos = t->text;
	return render_span(&r, &pos, NULL, out);
}

/* ---- JSON in Nx's layout: two-space indents, short scalar arrays inline ---- */

static void indent(struct sbuf *out, int depth)
{
	for (int i = 0; i < depth; i++)
		sbuf_adds(out, "  ");
}

static void print_scalar(const cJSON *j, struct sbuf *out)
{
	char *s = cJSON_PrintUnformatted(j);
	sbuf_adds(out, s ? s : "null");
	free(s);
}

static bool inline_array(const cJSON *arr)
{
	size_t width = 0;
	for (const cJSON *c = arr->child; c; c = c->next) {
		if (cJSON_IsArray(c) || cJSON_IsObject(c))
			return false;
		char *s = cJSON_PrintUnformatted(c);
		width += (s ? strlen(s) : 4) + 2;
		free(s);
	}
	return width < 72;
}

static void print_value(const cJSON *j, int depth, struct sbuf *out);

static void print_container(const cJSON *j, int depth, struct sbuf *out)
{
	bool obj = cJSON_IsObject(j);
	if (!j->child) {
		sbuf_adds(out, obj ? "{}" : "[]");
		return;
	}
	if (!obj && inline_array(j)) {
		sbuf_addc(out, '[');
		for (const cJSON *c = j->child; c; c = c->next) {
			print_scalar(c, out);
			if (c->next)
				sbuf_adds(out, ", ");
		}
		sbuf_addc(out, ']');
		return;
	}
	sbuf_adds(out, obj ? "{\n" : "[\n");
	for (const cJSON *c = j->child; c; c = c->next) {
		indent(out, depth + 1);
		if (obj) {
			cJSON *key = cJSON_CreateString(c->string);
			print_scalar(key, out);
			cJSON_Delete(key);
			sbuf_adds(out, ": ");
		}
		print_value(c, depth + 1, out);
		sbuf_adds(out, c->next ? ",\n" : "\n");
	}
	indent(out, depth);
	sbuf_addc(out, obj ? '}' : ']');
}

static void print_value(const cJSON *j, int depth, struct sbuf *out)
{
	if (cJSON_IsObject(j) || cJSON_IsArray(j))
		print_container(j, depth, out);
	else
		print_scalar(j, out);
}

void gen__json_print(const cJSON *json, struct sbuf *out)
{
	print_value(json, 0, out);
	sbuf_addc(out, '\n');
}

/* ---- the plan ---- */

void gen__plan_init(struct gen_plan *plan, const char *ws_root)
{
	memset(plan, 0, sizeof(*plan));
	plan->ws_root = ws_root;
}

void gen__plan_release(struct gen_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		free(plan->files[i].path);
		free(plan->files[i].data);
	}
	free(plan->files);
	plan->files = NULL;
	plan->n = plan->cap = 0;
}

struct gen_file *gen__plan_find(struct gen_plan *plan, const char *path)
{
	for (size_t i = 0; i < plan->n; i++)
		if (!strcmp(plan->files[i].path, path))
			return &plan->files[i];
	return NULL;
}

char *gen__ws_path(const struct gen_plan *plan, const char *rel)
{
	return path_join(plan->ws_root, rel);
}

void gen__plan_add(struct gen_plan *plan, const char *path, char *data, bool update)
{
	struct gen_file *f = gen__plan_find(plan, path);
	if (f) { /* a later step rewrites a file an earlier one planned */
		free(f->data);
		f->data = data;
		f->len = strlen(data);
		return;
	}
	xgrow(&plan->files, &plan->cap, plan->n + 1, sizeof(*plan->files));
	f = &plan->files[plan->n++];
	f->path = xstrdup(path);
	f->data = data;
	f->len = strlen(data);
	f->update = update;
	f->mode = str_ends(path, ".sh") ? 0755 : 0644;
}

int gen__plan_render(struct gen_plan *plan, const char *path, const char *tmpl,
                     const struct strmap *vars, struct bld_err *err)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	int rc = gen__render(tmpl, vars, &sb, err);
	if (rc < 0) {
		sbuf_release(&sb);
		return rc;
	}
	gen__plan_add(plan, path, sbuf_detach(&sb), false);
	return 0;
}

int gen__read(struct gen_plan *plan, const char *rel, char **ret_text, struct bld_err *err)
{
	struct gen_file *f = gen__plan_find(plan, rel);
	if (f) {
		*ret_text = xstrdup(f->data);
		return 0;
	}
	char *full = gen__ws_path(plan, rel);
	size_t len = 0;
	int rc = file_read(full, ret_text, &len);
	free(full);
	if (rc < 0 && rc != -ENOENT)
		return bld_err_at(err, rc, rel, 0, 0, "cannot read: %s", bld_strerror(rc));
	return rc;
}

int gen__read_json(struct gen_plan *plan, const char *rel, cJSON **ret, struct bld_err *err)
{
	char *text = NULL;
	int rc = gen__read(plan, rel, &text, err);
	if (rc < 0)
		return rc;
	const char *end = NULL;
	*ret = cJSON_ParseWithOpts(text, &end, false);
	if (!*ret) {
		int line = 1, col = 1;
		for (const char *p = text; end && p < end; p++) {
			line += *p == '\n';
			col = *p == '\n' ? 1 : col + 1;
		}
		free(text);
		return bld_err_at(
		    err, BLD_EPARSE, rel, line, col,
		    "not plain JSON (bld updates this file and cannot keep comments)");
	}
	free(text);
	return 0;
}

void gen__plan_json(struct gen_plan *plan, const char *rel, const cJSON *json)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	gen__json_print(json, &sb);
	char *full = gen__ws_path(plan, rel);
	bool exists = file_exists(full);
	free(full);
	gen__plan_add(plan, rel, sbuf_detach(&sb), exists);
}

static int plan_check(const struct gen_plan *plan, struct bld_err *err)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct gen_file *f = &plan->files[i];
		if (!path_is_safe_relative(f->path))
			return bld_err_set(err, BLD_EUNSAFE, "%s: outside the workspace", f->path);
		char *full = gen__ws_path(plan, f->path);
		bool exists = file_exists(full) || dir_exists(full);
		free(full);
		if (exists && !f->update)
			return bld_err_at(err, BLD_EEXISTS, f->path, 0, 0,
			                  "already exists; nothing was written");
	}
	return 0;
}

static int plan_write(const struct gen_plan *plan, struct bld_err *err)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct gen_file *f = &plan->files[i];
		char *full = gen__ws_path(plan, f->path);
		char *dir = path_dirname(full);
		int rc = mkdir_p(dir, 0755);
		if (rc >= 0)
			rc = file_write_atomic(full, f->data, f->len, f->mode);
		free(dir);
		free(full);
		if (rc < 0)
			return bld_err_at(err, rc, f->path, 0, 0, "cannot write: %s",
			                  bld_strerror(rc));
	}
	return 0;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct gen_file *)a)->path, ((const struct gen_file *)b)->path);
}

int gen__plan_apply(struct gen_plan *plan, bool dry_run, struct sbuf *out, struct bld_err *err)
{
	int rc = plan_check(plan, err);
	if (rc < 0)
		return rc;
	if (plan->n)
		qsort(plan->files, plan->n, sizeof(*plan->files), by_path);
	if (!dry_run) {
		rc = plan_write(plan, err);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < plan->n; i++)
		sbuf_addf(out, "%s %s\n", plan->files[i].update ? "UPDATE" : "CREATE",
		          plan->files[i].path);
	return 0;
}
