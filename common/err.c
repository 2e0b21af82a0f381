/*
 * err.c - the error table's messages and struct bld_err helpers.  See err.h.
 */
#include "bld/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const messages[] = {
#define X(name, msg) msg,
	BLD_ERRNO_MAP(X)
#undef X
};

const char *bld_strerror(int code)
{
	if (code >= 0)
		return "success";
	int idx = -code - BLD_E_BASE - 1;
	if (idx >= 0 && idx < BLD_I__COUNT)
		return messages[idx];
	return strerror(-code);
}

void bld_err_clear(struct bld_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->file[0] = err->msg[0] = '\0';
	err->line = err->col = 0;
}

static int vset(struct bld_err *err, int code, const char *file, int line, int col,
                const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	err->col = col;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return code;
}

int bld_err_set(struct bld_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(err, code, NULL, 0, 0, fmt, ap);
	va_end(ap);
	return code;
}

int bld_err_at(struct bld_err *err, int code, const char *file, int line, int col,
               const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(err, code, file, line, col, fmt, ap);
	va_end(ap);
	return code;
}

void bld_err_format(const struct bld_err *err, char *buf, size_t size)
{
	const char *msg = err->msg[0] ? err->msg : bld_strerror(err->code);
	if (err->file[0] && err->line)
		snprintf(buf, size, "%s:%d:%d: %s", err->file, err->line, err->col, msg);
	else if (err->file[0])
		snprintf(buf, size, "%s: %s", err->file, msg);
	else
		snprintf(buf, size, "%s", msg);
}
