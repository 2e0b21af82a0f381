/*
 * generate.c - the generator table behind `bld generate` / `bld list`, option
 * checking, naming helpers, and the workspace root files (nx.json,
 * package.json, tsconfig.base.json, .gitignore) generators share.
 */
#include "bld/gen.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gen_int.h"

typedef int (*gen_fn)(struct gen_plan *plan, const cJSON *options, struct bld_err *err);

static const struct gen_info infos[] = {
    {"py#fast-api", "A FastAPI service for AWS Lambda behind API Gateway, with its CDK or "
                    "Terraform infrastructure (options: --name, --computeType, --auth, "
                    "--directory, --iacProvider, --moduleName)"},
    {"ts#infra", "A CDK app that deploys the workspace's APIs, with a synth target "
                 "(options: --name, --directory)"},
};
static const gen_fn fns[] = {gen__fastapi, gen__infra};

const struct gen_info *gen_list(size_t *ret_n)
{
	*ret_n = ARRAY_LEN(infos);
	return infos;
}

int gen_run(const char *name, const char *ws_root, const cJSON *options, bool dry_run,
            struct sbuf *out, bool *ret_uv_lock, struct bld_err *err)
{
	size_t i;
	for (i = 0; i < ARRAY_LEN(infos); i++)
		if (!strcmp(infos[i].name, name))
			break;
	if (i == ARRAY_LEN(infos)) {
		/* "@aws/nx-plugin:py#fast-api" names the same generator. */
		const char *colon = strrchr(name, ':');
		if (colon && colon[1])
			return gen_run(colon + 1, ws_root, options, dry_run, out, ret_uv_lock, err);
		return bld_err_set(err, BLD_EUSAGE, "unknown generator '%s'; known: %s, %s", name,
		                   infos[0].name, infos[1].name);
	}
	if (options && !cJSON_IsObject(options))
		return bld_err_set(err, BLD_EUSAGE, "generator options must be an object");
	struct gen_plan plan;
	gen__plan_init(&plan, ws_root);
	int rc = fns[i](&plan, options, err);
	if (rc >= 0)
		rc = gen__plan_apply(&plan, dry_run, out, err);
	if (ret_uv_lock)
		*ret_uv_lock = rc >= 0 && plan.uv_lock;
	gen__plan_release(&plan);
	return rc < 0 ? rc : 0;
}

/* ---- names ---- */

/* Words of s: runs of letters and digits, split at lower->Upper changes. */
static void words(const char *s, struct strvec *ret)
{
	struct sbuf camel = SBUF_INIT;
	sbuf_init(&camel);
	gen__camel_case(s, &camel);
	struct sbuf w = SBUF_INIT;
	sbuf_init(&w);
	for (const char *p = camel.buf; *p; p++) {
		if (isupper((unsigned char)*p) && w.len) {
			strvec_push(ret, w.buf);
			sbuf_reset(&w);
		}
		sbuf_addc(&w, (char)tolower((unsigned char)*p));
	}
	if (w.len)
		strvec_push(ret, w.buf);
	sbuf_release(&w);
	sbuf_release(&camel);
}

static char *join_words(const char *s, const char *sep, bool capitalise)
{
	struct strvec wv;
	strvec_init(&wv);
	words(s, &wv);
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	for (size_t i = 0; i < wv.n; i++) {
		if (i)
			sbuf_adds(&sb, sep);
		if (capitalise)
			wv.v[i][0] = (char)toupper((unsigned char)wv.v[i][0]);
		sbuf_adds(&sb, wv.v[i]);
	}
	strvec_release(&wv);
	return sbuf_detach(&sb);
}

char *gen__kebab(const char *s)
{
	return join_words(s, "-", false);
}

char *gen__snake(const char *s)
{
	return join_words(s, "_", false);
}

char *gen__pascal(const char *s)
{
	return join_words(s, "", true);
}

char *gen__up(const char *rel)
{
	struct sbuf up = SBUF_INIT;
	sbuf_init(&up);
	for (const char *p = rel; p; p = strchr(p + 1, '/'))
		sbuf_adds(&up, up.len ? "/.." : "..");
	return sbuf_detach(&up);
}

/* ---- options ---- */

int gen__opt_str(const cJSON *options, const char *key, const char **ret, struct bld_err *err)
{
	const cJSON *v = options ? cJSON_GetObjectItemCaseSensitive(options, key) : NULL;
	*ret = NULL;
	if (!v)
		return 0;
	if (!cJSON_IsString(v))
		return bld_err_set(err, BLD_EUSAGE, "--%s: expected a string value", key);
	*ret = v->valuestring;
	return 0;
}

int gen__opt_choice(const cJSON *options, const char *key, const char *const *allowed,
                    const char *def, const char **ret, struct bld_err *err)
{
	const char *v = NULL;
	int rc = gen__opt_str(options, key, &v, err);
	if (rc < 0)
		return rc;
	*ret = def;
	if (!v)
		return 0;
	struct sbuf list = SBUF_INIT;
	sbuf_init(&list);
	for (size_t i = 0; allowed[i]; i++) {
		/* Case-insensitive, so --auth iam works as in the AWS plugin's newer spelling. */
		if (!strcasecmp(v, allowed[i])) {
			*ret = allowed[i];
			sbuf_release(&list);
			return 0;
		}
		sbuf_addf(&list, "%s%s%s", i ? ", " : "", allowed[i],
		          strcmp(allowed[i], def) ? "" : " (default)");
	}
	rc = bld_err_set(err, BLD_EUSAGE, "--%s: '%s' is not allowed; allowed values: %s", key, v,
	                 list.buf);
	sbuf_release(&list);
	return rc;
}

int gen__opt_known(const char *gen, const cJSON *options, const char *const *known,
                   struct bld_err *err)
{
	for (const cJSON *o = options ? options->child : NULL; o; o = o->next) {
		size_t i, best = 0;
		int best_d = 4;
		for (i = 0; known[i] && strcmp(known[i], o->string); i++) {
			int d = str_edit_distance(known[i], o->string, 3);
			if (d < best_d) {
				best_d = d;
				best = i;
			}
		}
		if (known[i])
			continue;
		struct sbuf list = SBUF_INIT;
		sbuf_init(&list);
		for (i = 0; known[i]; i++)
			sbuf_addf(&list, "%s--%s", i ? ", " : "", known[i]);
		int rc =
		    bld_err_set(err, BLD_EUSAGE, "%s: unknown option --%s%s%s%s; options: %s", gen,
		                o->string, best_d <= 3 ? " (did you mean --" : "",
		                best_d <= 3 ? known[best] : "", best_d <= 3 ? "?)" : "", list.buf);
		sbuf_release(&list);
		return rc;
	}
	return 0;
}

/* ---- workspace root files ---- */

static int plan_gitignore(struct gen_plan *plan, struct bld_err *err)
{
	struct strmap vars;
	strmap_init(&vars);
	struct sbuf want = SBUF_INIT;
	sbuf_init(&want);
	int rc = gen__render("root/gitignore", &vars, &want, err);
	strmap_release(&vars);
	char *have = NULL;
	int rd = rc < 0 ? 0 : gen__read(plan, ".gitignore", &have, err);
	if (rc < 0 || (rd < 0 && rd != -ENOENT)) {
		sbuf_release(&want);
		return rc < 0 ? rc : rd;
	}
	struct strvec lines, missing;
	strvec_init(&lines);
	strvec_init(&missing);
	strvec_split(&lines, have ? have : "", "\n");
	for (size_t i = 0; i < lines.n; i++) { /* "dist/" counts as "dist" */
		size_t len = strlen(lines.v[i]);
		if (len > 1 && lines.v[i][len - 1] == '/')
			lines.v[i][len - 1] = '\0';
	}
	struct strvec wanted;
	strvec_init(&wanted);
	strvec_split(&wanted, want.buf, "\n");
	for (size_t i = 0; i < wanted.n; i++) {
		char *slash = xasprintf("/%s", wanted.v[i]);
		if (strvec_find(&lines, wanted.v[i]) < 0 && strvec_find(&lines, slash) < 0)
			strvec_push(&missing, wanted.v[i]);
		free(slash);
	}
	if (missing.n) {
		struct sbuf sb = SBUF_INIT;
		sbuf_init(&sb);
		if (have) {
			sbuf_adds(&sb, have);
			if (sb.len && sb.buf[sb.len - 1] != '\n')
				sbuf_addc(&sb, '\n');
		}
		for (size_t i = 0; i < missing.n; i++)
			sbuf_addf(&sb, "%s\n", missing.v[i]);
		gen__plan_add(plan, ".gitignore", sbuf_detach(&sb), have != NULL);
	}
	strvec_release(&wanted);
	strvec_release(&missing);
	strvec_release(&lines);
	sbuf_release(&want);
	free(have);
	return 0;
}

/* Render a root template when the file is absent (a user's own file is left alone). */
static int plan_root_file(struct gen_plan *plan, const char *path, const char *tmpl,
                          const struct strmap *vars, struct bld_err *err)
{
	char *full = gen__ws_path(plan, path);
	bool exists = file_exists(full) || gen__plan_find(plan, path);
	free(full);
	return exists ? 0 : gen__plan_render(plan, path, tmpl, vars, err);
}

int gen__plan_root(struct gen_plan *plan, struct bld_err *err)
{
	struct strmap vars;
	strmap_init(&vars);
	char *ws_name = gen__kebab(path_basename(plan->ws_root));
	strmap_put(&vars, "workspace", *ws_name ? ws_name : "workspace");
	int rc = plan_root_file(plan, "nx.json", "root/nx.json", &vars, err);
	if (rc >= 0)
		rc = plan_root_file(plan, "package.json", "root/package.json", &vars, err);
	if (rc >= 0)
		rc = plan_gitignore(plan, err);
	strmap_release(&vars);
	free(ws_name);
	return rc;
}
