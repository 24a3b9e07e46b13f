#include <stdio.h>

#include "cli.h"
#include "events.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape kinds [KIND...]\n"
	"\n"
	"Lists the registered event kinds, or only those named, and their\n"
	"fields (* = required).\n";

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
	case EV_BYTES: return "bytes";
	}
	return "?";
}

static void show(const struct ev_kind *k)
{
	printf("%s\n    %s\n", k->name, k->doc);
	for (size_t j = 0; j < k->nfields; j++) {
		const struct ev_field *f = &k->fields[j];
		printf("    %s%-8s %-8s %s\n", f->required ? "*" : " ",
		       f->name, type_name(f->type), f->doc ? f->doc : "");
	}
	putchar('\n');
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
	/* Error messages about input point at 'labtape kinds KIND'. */
	for (int i = optind; i < argc; i++)
		if (!ev_kind_find(argv[i]))
			return cli_error("unknown kind '%s' (run 'labtape kinds' "
					 "for the list)", argv[i]);
	for (int i = optind; i < argc; i++)
		show(ev_kind_find(argv[i]));
	if (optind < argc)
		return 0;
	k = ev_kinds(&n);
	for (size_t i = 0; i < n; i++)
		show(&k[i]);
	return 0;
}
