#include <stdio.h>

#include "cli.h"
#include "events.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape kinds\n"
	"\n"
	"Lists the registered event kinds and their fields (* = required).\n";

static const char *type_name(enum ev_type t)
{
	switch (t) {
	case EV_ANY: return "any";
	case EV_STRING: return "string";
	case EV_INT: return "integer";
	case EV_BOOL: return "boolean";
	case EV_NUMBER: return "number";
	case EV_OBJECT: return "object";
	case EV_ARRAY: return "array";
	}
	return "?";
}

int cmd_kinds(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "kinds", usage, NULL, NULL };
	const struct ev_kind *k;
	size_t n;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if ((r = cli_common_opt(&c, opt)) >= 0)
			return r;
	if (optind < argc)
		return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
	k = ev_kinds(&n);
	for (size_t i = 0; i < n; i++) {
		printf("%s\n    %s\n", k[i].name, k[i].doc);
		for (size_t j = 0; j < k[i].nfields; j++) {
			const struct ev_field *f = &k[i].fields[j];
			printf("    %s%-8s %-8s %s\n", f->required ? "*" : " ",
			       f->name, type_name(f->type), f->doc ? f->doc : "");
		}
		putchar('\n');
	}
	return 0;
}
