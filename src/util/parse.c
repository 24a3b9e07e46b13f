#include "parse.h"

#include <string.h>
#include <strings.h>

#include "error.h"
#include "banned.h"

int lt_parse_bool(const char *s, int *out)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") ||
	    !strcasecmp(s, "on") || !strcmp(s, "1"))
		*out = 1;
	else if (!strcasecmp(s, "no") || !strcasecmp(s, "false") ||
		 !strcasecmp(s, "off") || !strcmp(s, "0"))
		*out = 0;
	else
		return LT_EINVAL;
	return 0;
}
