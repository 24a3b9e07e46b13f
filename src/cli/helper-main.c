/*
 * The main of a helper program, labtape-NAME: one command built into an
 * executable of its own, which `labtape NAME` executes (main.c,
 * "Helper programs"). Compiled once per helper with LT_COMMAND_NAME
 * ("release") and LT_COMMAND_FN (cmd_release) defined.
 *
 * argv is what labtape got: argv[1] is NAME, so that usage messages and
 * the audit log name the command the user typed.
 */
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "banned.h"

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], LT_COMMAND_NAME)) {
		fprintf(stderr, "labtape-%s: run it as 'labtape %s'\n",
			LT_COMMAND_NAME, LT_COMMAND_NAME);
		return EXIT_USAGE;
	}
	audit_set_process("labtape " LT_COMMAND_NAME);
	return LT_COMMAND_FN(argc - 1, argv + 1);
}
