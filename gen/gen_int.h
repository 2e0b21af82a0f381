/*
 * gen_int.h - private to gen/: naming helpers, the embedded template table,
 * template rendering and the write plan shared by the generators.
 */
#ifndef BLD_GEN_INT_H
#define BLD_GEN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "bld/base.h"
#include "bld/err.h"

/* Append the camelCase of s to out: words split at non-alphanumerics and at
 * lower->Upper and ACRONYMWord boundaries; "list-items" -> "listItems". */
void gen__camel_case(const char *s, struct sbuf *out);

#endif
