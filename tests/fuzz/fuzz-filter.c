/*
 * The [exclude] rule parser: configuration text in, rules out, then a few
 * events checked against whatever rules it made. Bad input must give an
 * error, never a crash, and a rule that parsed must match in bounded
 * time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct filter_event events[] = {
		{ "shell", NULL, NULL, NULL, 0 },
		{ "window", "KeePassXC", "Private Browsing", NULL,
		  1700000000 * (int64_t)1000000000 },
		{ "files", NULL, NULL, "/home/ada/papers/a.tex",
		  1704200000 * (int64_t)1000000000 },
		{ "window", "x", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
		  "/", -1 },
	};
	struct filter *f = filter_new();
	struct filter_count *c;

	setenv("HOME", "/home/ada", 0);
	if (filter_parse(f, (const char *)data, size, "fuzz") == 0) {
		for (size_t i = 0; i < sizeof(events) / sizeof(*events); i++)
			filter_check(f, &events[i], NULL);
		filter_counts(f, &c);
		free(c);
	}
	filter_free(f);
	return 0;
}
