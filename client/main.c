/*
 * main.c - bld, the thin client: parse the command line, answer help and
 * --version locally, otherwise hand the request to the engine (conn.c) and
 * exit with its exit code.
 */
#include <stdio.h>
#include <string.h>

#include "client.h"

int client_run(const struct cli *cli);

static int print_help(const char *topic)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	if (!help_text(topic, &sb)) {
		fprintf(stderr, "bld: error: no help for \"%s\"; see bld help\n", topic);
		sbuf_release(&sb);
		return 2;
	}
	fputs(sb.buf, stdout);
	sbuf_release(&sb);
	return 0;
}

int main(int argc, char **argv)
{
	struct cli cli;
	struct bld_err err;
	bld_err_clear(&err);
	if (cli_parse(argc, argv, &cli, &err) < 0) {
		fprintf(stderr, "bld: error: %s\n", err.msg);
		return 2;
	}
	int code;
	switch (cli.action) {
	case CLI_VERSION:
		printf("bld %s\n", BLD_VERSION);
		code = 0;
		break;
	case CLI_HELP:
		code = print_help(cli.topic);
		break;
	default:
		code = client_run(&cli);
		break;
	}
	cli_release(&cli);
	return code;
}
