#include <stddef.h>

#include "source.h"
#include "banned.h"

/* Every source labtape can run, in the order `labtape status` shows them.
 * A source is added here and in its own file, nowhere else. */
extern const struct source_ops files_source_ops;

const struct source_ops *const source_registry[] = {
	&files_source_ops,
	NULL,
};
