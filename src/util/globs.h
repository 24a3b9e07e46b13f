#ifndef LABTAPE_GLOBS_H
#define LABTAPE_GLOBS_H

/*
 * A list of patterns in .gitignore syntax: blank lines and '#' comments
 * skipped, '!' negates, a trailing '/' matches folders only, a pattern
 * with a '/' at its start or middle is anchored to the list's folder,
 * others match a name at any depth; '*', '?', '[...]' within a name
 * (fnmatch(3)), '**' across folders (at the end: everything inside).
 * The last pattern that matches wins.
 *
 *	struct globs *g = globs_new();
 *	globs_parse(g, text, len);
 *	if (globs_match(g, "src/a.o", 0) == GLOBS_IGNORE) ...
 *	globs_free(g);
 */

#include <stddef.h>

struct globs;

enum globs_verdict {
	GLOBS_NO_MATCH = 0,	/* no pattern matched */
	GLOBS_IGNORE,		/* the last match was a pattern */
	GLOBS_KEEP,		/* the last match was a '!' pattern */
};

/* An empty list; free it with globs_free(). */
struct globs *globs_new(void);
void globs_free(struct globs *r);
/* Adds one line (no newline needed; comments and blanks add nothing). */
void globs_add(struct globs *r, const char *line, size_t len);
/* Adds every line of a .gitignore file's text. */
void globs_parse(struct globs *r, const char *text, size_t len);
size_t globs_count(const struct globs *r);
/* Matches path ("a/b/c", relative to the list's folder; leading, trailing
 * and doubled '/' do not count). */
enum globs_verdict globs_match(const struct globs *r, const char *path,
			       int is_dir);
/*
 * Which pattern (its index, counting the lines globs_add() kept) matches
 * path or a folder above it, as a walk that skips matched folders would
 * find it: the folders from the outermost, then path itself as a file.
 * -1 if none does. Meant for lists without '!' patterns (the index of a
 * '!' pattern can be returned too; the caller decides what it means).
 */
long globs_find_within(const struct globs *r, const char *path);

#endif
