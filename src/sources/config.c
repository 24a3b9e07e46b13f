#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "error.h"
#include "fileio.h"
#include "ltime.h"
#include "parse.h"
#include "xalloc.h"
#include "banned.h"

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->flush_interval_ns = LT_NS_PER_SEC;
	c->files_enabled = 1;
	c->max_text_size = 8u << 20;
	c->snapshot_every = 300;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void config_release(struct config *c)
{
	free(c->path);
	free(c->vault_dir);
	free_list(c->watch, c->nwatch);
	free_list(c->exclude, c->nexclude);
	free_list(c->redact_rules, c->nredact_rules);
	free_list(c->redact_allow, c->nredact_allow);
	free(c->redact_names);
	config_init(c);
}

void config_default_path(struct buf *out)
{
	const char *e;

	buf_reset(out);
	if ((e = getenv("XDG_CONFIG_HOME")) && *e)
		buf_addf(out, "%s/labtape/config", e);
	else
		buf_addf(out, "%s/.config/labtape/config",
			 (e = getenv("HOME")) && *e ? e : ".");
}

void config_socket_path(struct buf *out)
{
	const char *e;

	buf_reset(out);
	if ((e = getenv("LABTAPE_SOCKET")) && *e)
		buf_addstr(out, e);
	else if ((e = getenv("XDG_RUNTIME_DIR")) && *e)
		buf_addf(out, "%s/labtape/control", e);
	else
		buf_addf(out, "/tmp/labtape-%ld/control", (long)getuid());
}

void config_session_socket_path(struct buf *out, const char *id)
{
	struct buf control = BUF_INIT;

	config_socket_path(&control);
	lt_dirname(control.data, out);
	buf_addf(out, "/session-%s", id);
	buf_release(&control);
}

void config_cache_dir(struct buf *out)
{
	const char *e;

	buf_reset(out);
	if ((e = getenv("LABTAPE_CACHE_DIR")) && *e)
		buf_addstr(out, e);
	else if ((e = getenv("XDG_CACHE_HOME")) && *e)
		buf_addf(out, "%s/labtape", e);
	else
		buf_addf(out, "%s/.cache/labtape",
			 (e = getenv("HOME")) && *e ? e : ".");
}

/* ~/x -> $HOME/x; relative -> absolute against the working directory. */
static char *expand_path(const char *p)
{
	struct buf b = BUF_INIT;
	const char *home = getenv("HOME");
	char cwd[PATH_MAX];

	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0') && home)
		buf_addf(&b, "%s%s", home, p + 1);
	else if (p[0] != '/' && getcwd(cwd, sizeof(cwd)))
		buf_addf(&b, "%s/%s", cwd, p);
	else
		buf_addstr(&b, p);
	/* No trailing slashes, so that paths compare as prefixes. */
	while (b.len > 1 && b.data[b.len - 1] == '/')
		buf_setlen(&b, b.len - 1);
	return buf_detach(&b, NULL);
}

int config_add_watch(struct config *c, const char *path)
{
	c->watch = xrealloc(c->watch, (c->nwatch + 1) * sizeof(*c->watch));
	c->watch[c->nwatch++] = expand_path(path);
	return 0;
}

int config_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno)
		return LT_EINVAL;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: return LT_EINVAL;
	}
	if (*end == 'i' || *end == 'B')
		end += *end == 'i' && end[1] == 'B' ? 2 : 1;
	if (*end || v > (UINT64_MAX >> shift))
		return LT_EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

struct parse {
	struct config *c;
	struct buf err;		/* the first problem, without the line */
};

#define KEY(sec, k) (!strcmp(section, sec) && !strcmp(name, k))

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct parse *p = user;
	struct config *c = p->c;
	uint64_t size;

	if (!strcmp(section, "exclude"))
		return 1;	/* the filter's (src/privacy/filter.c) */
	if (KEY("vault", "dir")) {
		free(c->vault_dir);
		c->vault_dir = expand_path(value);
	} else if (KEY("record", "flush_interval")) {
		if (lt_duration_parse(value, &c->flush_interval_ns) ||
		    c->flush_interval_ns < LT_NS_PER_SEC / 100) {
			buf_addf(&p->err, "flush_interval '%s': use a duration "
				 "of at least 10ms, such as 1s", value);
			return 0;
		}
	} else if (KEY("files", "enabled")) {
		if (lt_parse_bool(value, &c->files_enabled)) {
			buf_addf(&p->err, "enabled '%s': use yes or no", value);
			return 0;
		}
	} else if (KEY("files", "watch")) {
		config_add_watch(c, value);
	} else if (KEY("files", "exclude")) {
		c->exclude = xrealloc(c->exclude,
				      (c->nexclude + 1) * sizeof(*c->exclude));
		c->exclude[c->nexclude++] = xstrdup(value);
	} else if (KEY("files", "max_text_size")) {
		if (config_parse_size(value, &c->max_text_size)) {
			buf_addf(&p->err, "max_text_size '%s': use a size such "
				 "as 8M", value);
			return 0;
		}
	} else if (KEY("files", "snapshot_every")) {
		if (config_parse_size(value, &size) || size < 1 ||
		    size > 1000000) {
			buf_addf(&p->err, "snapshot_every '%s': use a number "
				 "from 1 to 1000000", value);
			return 0;
		}
		c->snapshot_every = (unsigned)size;
	} else if (KEY("shell", "input")) {
		if (lt_parse_bool(value, &c->shell_input)) {
			buf_addf(&p->err, "input '%s': use yes or no", value);
			return 0;
		}
	} else if (KEY("redact", "rule")) {
		if (!strpbrk(value, ":=") || strcspn(value, ":=") == 0) {
			buf_addf(&p->err, "rule '%s': write NAME:REGEX", value);
			return 0;
		}
		c->redact_rules = xrealloc(c->redact_rules,
			(c->nredact_rules + 1) * sizeof(*c->redact_rules));
		c->redact_rules[c->nredact_rules++] = xstrdup(value);
	} else if (KEY("redact", "allow")) {
		c->redact_allow = xrealloc(c->redact_allow,
			(c->nredact_allow + 1) * sizeof(*c->redact_allow));
		c->redact_allow[c->nredact_allow++] = xstrdup(value);
	} else if (KEY("redact", "names")) {
		free(c->redact_names);
		c->redact_names = expand_path(value);
	} else {
		buf_addf(&p->err, "unknown key '%s' in section [%s]", name,
			 section);
		return 0;
	}
	return 1;
}

int config_load(struct config *c, const char *path, int missing_ok)
{
	struct parse p = { c, BUF_INIT };
	FILE *f = fopen(path, "r");
	int line, r = 0;

	if (!f) {
		if (errno == ENOENT && missing_ok)
			return 0;
		return lt_error_errno(LT_EIO, "cannot read configuration '%s'",
				      path);
	}
	line = ini_parse_file(f, handler, &p);
	fclose(f);
	if (line != 0)
		r = lt_error(LT_EINVAL, "%s:%d: %s (see 'labtape record --help')",
			     path, line, p.err.len ? p.err.data :
			     "malformed line: expected [section] or key = value");
	else {
		free(c->path);
		c->path = xstrdup(path);
	}
	buf_release(&p.err);
	return r;
}
