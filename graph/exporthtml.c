/*
 * exporthtml.c - `bld graph --file out.html`: one self-contained page that
 * draws the project graph as inline SVG laid out here in C, and lists the
 * tasks when a task graph is given.  No network, no external fonts: the CSS
 * and the few lines of JS (filter box, highlight on hover, click to focus)
 * are inline.  Affected projects (--affected) carry the class "aff"; a click
 * on a project focuses it: it, what it depends on and what depends on it
 * stay, the rest fades (class "out"); a second click or Escape clears it.
 * --focus opens the page focused (body data-focus).  A URL ending in
 * "#click=<project>" clicks that project once the page has loaded (how the
 * headless-browser test drives it).
 *
 * Layout: a project's column is one more than the deepest of its
 * dependencies (projects without dependencies on the left, so edges point
 * leftwards, from dependent to dependency); within a column, projects are
 * ordered by the mean row of their dependencies, then by name.  An edge that
 * closes a cycle is drawn but ignored by the layering.
 */
#include <stdlib.h>
#include <string.h>

#include "bld/taskgraph.h"
#include "tg_int.h"

#define NODE_H 28
#define ROW_GAP 16
#define COL_GAP 90
#define MARGIN 30
#define CHAR_W 7.2

struct layout {
	int *col, *row;    /* per project */
	double *x, *y, *w; /* per project: top-left corner and width */
	int ncols;
	double width, height;
};

/* Depth by DFS; edges to projects on the current path are ignored. */
static int depth_of(const struct workspace *ws, int p, int *depth, char *state)
{
	if (state[p] == 2)
		return depth[p];
	if (state[p] == 1)
		return -1;
	state[p] = 1;
	int d = 0;
	const struct ws_project *pr = &ws->projects[p];
	for (size_t k = 0; k < pr->ndeps; k++) {
		int dd = depth_of(ws, pr->deps[k].project, depth, state);
		if (dd >= 0 && dd + 1 > d)
			d = dd + 1;
	}
	state[p] = 2;
	depth[p] = d;
	return d;
}

struct rank {
	int project;
	double key;
	const char *name;
};

static int rank_cmp(const void *a, const void *b)
{
	const struct rank *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Mean row of p's dependencies laid out in earlier columns; -1 when none. */
static double barycenter(const struct workspace *ws, const struct layout *l, int p)
{
	const struct ws_project *pr = &ws->projects[p];
	double sum = 0;
	int n = 0;
	for (size_t k = 0; k < pr->ndeps; k++) {
		int d = pr->deps[k].project;
		if (l->col[d] < l->col[p]) {
			sum += l->row[d];
			n++;
		}
	}
	return n ? sum / n : -1;
}

static void order_column(const struct workspace *ws, struct layout *l, int c, struct rank *tmp)
{
	size_t n = 0;
	for (size_t i = 0; i < ws->nprojects; i++)
		if (l->col[i] == c)
			tmp[n++] = (struct rank){(int)i, c ? barycenter(ws, l, (int)i) : 0,
			                         ws->projects[i].name};
	qsort(tmp, n, sizeof(*tmp), rank_cmp);
	for (size_t r = 0; r < n; r++)
		l->row[tmp[r].project] = (int)r;
}

static void layout_compute(const struct workspace *ws, struct layout *l)
{
	size_t n = ws->nprojects;
	char *state = xcalloc(n + 1, 1);
	struct rank *tmp = xcalloc(n + 1, sizeof(*tmp));
	l->col = xcalloc(n + 1, sizeof(int));
	l->row = xcalloc(n + 1, sizeof(int));
	l->x = xcalloc(n + 1, sizeof(double));
	l->y = xcalloc(n + 1, sizeof(double));
	l->w = xcalloc(n + 1, sizeof(double));
	l->ncols = 0;
	for (size_t i = 0; i < n; i++) {
		depth_of(ws, (int)i, l->col, state);
		if (l->col[i] + 1 > l->ncols)
			l->ncols = l->col[i] + 1;
		l->w[i] = 24 + CHAR_W * (double)strlen(ws->projects[i].name);
	}
	for (int c = 0; c < l->ncols; c++)
		order_column(ws, l, c, tmp);
	double x = MARGIN;
	l->height = 0;
	for (int c = 0; c < l->ncols; c++) {
		double colw = 0;
		for (size_t i = 0; i < n; i++) {
			if (l->col[i] != c)
				continue;
			l->x[i] = x;
			l->y[i] = MARGIN + l->row[i] * (NODE_H + ROW_GAP);
			if (l->w[i] > colw)
				colw = l->w[i];
			if (l->y[i] + NODE_H > l->height)
				l->height = l->y[i] + NODE_H;
		}
		x += colw + COL_GAP;
	}
	l->width = x - COL_GAP + MARGIN;
	l->height += MARGIN;
	free(state);
	free(tmp);
}

static void layout_release(struct layout *l)
{
	free(l->col);
	free(l->row);
	free(l->x);
	free(l->y);
	free(l->w);
}

static void html_escape(struct sbuf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			sbuf_adds(out, "&amp;");
			break;
		case '<':
			sbuf_adds(out, "&lt;");
			break;
		case '>':
			sbuf_adds(out, "&gt;");
			break;
		case '"':
			sbuf_adds(out, "&quot;");
			break;
		case '\'':
			sbuf_adds(out, "&#39;");
			break;
		default:
			sbuf_addc(out, *s);
		}
	}
}

static const char CSS[] =
    "body{margin:0;font:14px system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328;"
    "background:#f6f8fa}header{padding:10px 16px;background:#24292f;color:#fff}"
    "header b{font-size:16px}header span{margin-left:12px;opacity:.8}"
    "#q{margin:10px 16px;padding:6px 8px;width:260px;border:1px solid #ccd;border-radius:4px}"
    ".wrap{overflow:auto;margin:0 16px;background:#fff;border:1px solid #d0d7de}"
    ".n rect{fill:#ddf4ff;stroke:#0969da;rx:5}.n.app rect{fill:#dafbe1;stroke:#1a7f37}"
    ".n.e2e rect{fill:#fff8c5;stroke:#9a6700}.n text{font-size:12px;fill:#1f2328}"
    ".n{cursor:pointer}.n.dim{opacity:.15}.e{fill:none;stroke:#8c959f;stroke-width:1.3}"
    ".e.implicit{stroke-dasharray:5 3}.e.dependson{stroke-dasharray:1.5 3}"
    ".e.hi{stroke:#cf222e;stroke-width:2.2}.e.dim{opacity:.1}"
    "table{border-collapse:collapse;margin:16px;background:#fff}"
    "td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left;font-size:13px}"
    "th{background:#f6f8fa}h2{margin:16px 16px 0;font-size:15px}"
    ".lg{color:#57606a;font-size:12px}.n.aff rect{stroke:#cf222e;stroke-width:2.5}"
    ".n.aff text{font-weight:600}.n.focus rect{stroke:#8250df;stroke-width:3.5}"
    ".n.out{opacity:.12}.e.out{opacity:.06}#focus{margin-left:12px;font-weight:600}";

static const char JS[] =
    "var q=document.getElementById('q');"
    "var N=[].slice.call(document.querySelectorAll('.n'));"
    "var E=[].slice.call(document.querySelectorAll('.e'));"
    "q.oninput=function(){var v=q.value.toLowerCase();N.forEach(function(n){"
    "n.classList.toggle('dim',v!==''&&n.dataset.name.toLowerCase().indexOf(v)<0)});"
    "E.forEach(function(e){e.classList.toggle('dim',v!=='')})};"
    "N.forEach(function(n){n.onmouseenter=function(){E.forEach(function(e){"
    "e.classList.toggle('hi',e.dataset.s===n.dataset.name||e.dataset.t===n.dataset.name)})};"
    "n.onmouseleave=function(){E.forEach(function(e){e.classList.remove('hi')})}});"
    "var D={},R={},F=null,st=document.getElementById('focus');"
    "E.forEach(function(e){(D[e.dataset.s]=D[e.dataset.s]||[]).push(e.dataset.t);"
    "(R[e.dataset.t]=R[e.dataset.t]||[]).push(e.dataset.s)});"
    "function walk(m,x,set){(m[x]||[]).forEach(function(y){if(!set[y]){set[y]=1;walk(m,y,set)}})}"
    "function focus(x){F=x;var set={};if(x){set[x]=1;walk(D,x,set);walk(R,x,set)}"
    "var k=0;N.forEach(function(n){var a=n.dataset.name;n.classList.toggle('out',!!x&&!set[a]);"
    "n.classList.toggle('focus',a===x);if(set[a])k++});"
    "E.forEach(function(e){e.classList.toggle('out',!!x&&!(set[e.dataset.s]&&set[e.dataset.t]))});"
    "st.textContent=x?'focused: '+x+' ('+k+' projects)':''}"
    "N.forEach(function(n){n.onclick=function(){focus(F===n.dataset.name?null:n.dataset.name)}});"
    "document.onkeydown=function(ev){if(ev.key==='Escape')focus(null)};"
    "if(document.body.dataset.focus)focus(document.body.dataset.focus);"
    "var h=decodeURIComponent(location.hash);if(h.indexOf('#click=')===0){"
    "N.forEach(function(n){if(n.dataset.name===h.slice(7))n.dispatchEvent(new MouseEvent('click',"
    "{bubbles:true}))})}";

static void svg_edges(const struct workspace *ws, const struct layout *l, struct sbuf *out)
{
	for (size_t i = 0; i < ws->nprojects; i++) {
		const struct ws_project *p = &ws->projects[i];
		for (size_t k = 0; k < p->ndeps; k++) {
			int d = p->deps[k].project;
			double x1 = l->x[i], y1 = l->y[i] + NODE_H / 2.0;
			double x2 = l->x[d] + l->w[d], y2 = l->y[d] + NODE_H / 2.0;
			double c1 = (x1 + x2) / 2, c2 = c1, cy1 = y1, cy2 = y2;
			int span = l->col[i] - l->col[d];
			if (x2 >= x1) { /* a back edge of a cycle: bend around */
				c1 = x1 - COL_GAP / 2.0;
				c2 = x2 + COL_GAP / 2.0;
			} else if (span > 1) { /* bow over the columns it crosses */
				c1 = x1 - COL_GAP;
				c2 = x2 + COL_GAP;
				cy1 = y1 - (NODE_H + ROW_GAP) * 0.6;
				cy2 = y2 - (NODE_H + ROW_GAP) * 0.6;
			}
			sbuf_addf(out, "<path class=\"e%s\" data-s=\"",
			          p->deps[k].kind == WS_DEP_STATIC     ? ""
			          : p->deps[k].kind == WS_DEP_IMPLICIT ? " implicit"
			                                               : " dependson");
			html_escape(out, p->name);
			sbuf_adds(out, "\" data-t=\"");
			html_escape(out, ws->projects[d].name);
			sbuf_addf(out,
			          "\" marker-end=\"url(#arr)\" d=\"M%.1f %.1f C%.1f %.1f %.1f %.1f "
			          "%.1f %.1f\"/>\n",
			          x1, y1, c1, cy1, c2, cy2, x2, y2);
		}
	}
}

static void svg_nodes(const struct workspace *ws, const struct layout *l, const bool *affected,
                      struct sbuf *out)
{
	for (size_t i = 0; i < ws->nprojects; i++) {
		const struct ws_project *p = &ws->projects[i];
		sbuf_addf(out, "<g class=\"n %s%s\" data-name=\"", tg__project_type(ws, p),
		          affected && affected[i] ? " aff" : "");
		html_escape(out, p->name);
		sbuf_addf(out, "\"><title>");
		html_escape(out, p->name);
		sbuf_adds(out, " (");
		html_escape(out, p->root[0] ? p->root : ".");
		sbuf_adds(out, ")");
		for (size_t t = 0; t < p->tags.n; t++) {
			sbuf_adds(out, t ? ", " : " tags: ");
			html_escape(out, p->tags.v[t]);
		}
		sbuf_addf(out, "</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\"/>",
		          l->x[i], l->y[i], l->w[i], NODE_H);
		sbuf_addf(out, "<text x=\"%.1f\" y=\"%.1f\">", l->x[i] + 12,
		          l->y[i] + NODE_H / 2.0 + 4);
		html_escape(out, p->name);
		sbuf_adds(out, "</text></g>\n");
	}
}

static void html_svg(const struct workspace *ws, const bool *affected, struct sbuf *out)
{
	struct layout l;
	layout_compute(ws, &l);
	sbuf_addf(out,
	          "<div class=\"wrap\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
	          "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n",
	          l.width, l.height, l.width, l.height);
	sbuf_adds(out, "<defs><marker id=\"arr\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
	               "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
	               "<path d=\"M0 0L10 5L0 10z\" fill=\"#8c959f\"/></marker></defs>\n");
	svg_edges(ws, &l, out);
	svg_nodes(ws, &l, affected, out);
	sbuf_adds(out, "</svg></div>\n");
	layout_release(&l);
}

static void html_tasks(const struct task_graph *tg, struct sbuf *out)
{
	int *order = task_graph_topo(tg);
	sbuf_addf(out,
	          "<h2>Tasks (%zu), dependencies first</h2>\n<table><tr><th>task</th>"
	          "<th>depends on</th><th>priority</th><th>cache</th><th>continuous</th></tr>\n",
	          tg->ntasks);
	for (size_t i = 0; i < tg->ntasks; i++) {
		const struct task *t = &tg->tasks[order[i]];
		sbuf_adds(out, t->requested ? "<tr><td><b>" : "<tr><td>");
		html_escape(out, t->id);
		sbuf_adds(out, t->requested ? "</b></td><td>" : "</td><td>");
		for (size_t k = 0; k < t->ndeps; k++) {
			if (k)
				sbuf_adds(out, ", ");
			html_escape(out, tg->tasks[t->deps[k]].id);
		}
		sbuf_addf(out, "</td><td>%d</td><td>%s</td><td>%s</td></tr>\n", t->priority,
		          t->cache ? "yes" : "no", t->continuous ? "yes" : "no");
	}
	sbuf_adds(out, "</table>\n");
	free(order);
}

void tg__export_html(const struct workspace *ws, const struct task_graph *tg,
                     const struct graph_marks *m, struct sbuf *out)
{
	size_t nedges = 0, naff = 0;
	for (size_t i = 0; i < ws->nprojects; i++) {
		nedges += ws->projects[i].ndeps;
		naff += m->affected && m->affected[i];
	}
	sbuf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	               "<title>bld graph</title><style>");
	sbuf_adds(out, CSS);
	sbuf_adds(out, "</style></head><body");
	if (m->focus >= 0) {
		sbuf_adds(out, " data-focus=\"");
		html_escape(out, ws->projects[m->focus].name);
		sbuf_adds(out, "\"");
	}
	sbuf_adds(out, ">\n<header><b>bld project graph</b><span>");
	sbuf_addf(out, "%zu projects, %zu dependencies", ws->nprojects, nedges);
	if (m->affected)
		sbuf_addf(out, ", <span id=\"naff\">%zu</span> affected (red)", naff);
	if (tg)
		sbuf_addf(out, ", %zu tasks", tg->ntasks);
	sbuf_adds(out, "</span></header>\n<input id=\"q\" placeholder=\"filter projects\" "
	               "aria-label=\"filter projects\"><span class=\"lg\">arrows point from a "
	               "project to what it depends on; solid: package or pyproject dependency, "
	               "dashed: implicitDependencies, dotted: cross-project dependsOn; green: "
	               "application, yellow: e2e; click a project to focus it</span>"
	               "<span id=\"focus\" class=\"lg\"></span>\n");
	html_svg(ws, m->affected, out);
	if (tg)
		html_tasks(tg, out);
	sbuf_adds(out, "<script>");
	sbuf_adds(out, JS);
	sbuf_adds(out, "</script>\n</body></html>\n");
}
