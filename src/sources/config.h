#ifndef LABTAPE_CONFIG_H
#define LABTAPE_CONFIG_H

/*
 * The configuration file, $XDG_CONFIG_HOME/labtape/config (INI, parsed
 * with libinih). Every key is optional; a missing file means defaults.
 *
 *	[vault]
 *	dir = ~/.local/share/labtape
 *
 *	[record]
 *	flush_interval = 1s          # at most this much is lost on power loss
 *
 *	[files]
 *	enabled = yes
 *	watch = ~/papers             # repeat for more trees
 *	exclude = *.bak              # globs, repeatable, as in .gitignore
 *	max_text_size = 8M           # larger files are stored as chunks
 *	snapshot_every = 300         # a full snapshot every N edits
 *
 *	[shell]
 *	input = no                   # record keystrokes in 'labtape shell'
 *
 *	[redact]                     # doc/redaction.md
 *	rule = TICKET:JIRA-[0-9]+    # NAME:REGEX (PCRE2), repeatable
 *	allow = noreply@example.org  # a literal, or /regex/; repeatable
 *	names = ~/people.txt         # people's names, one a line
 *
 *	[exclude]                    # never recorded (src/privacy/filter.h)
 *	source = shell               # a source: files, shell, editor, ...
 *	app = keepassxc              # application or window class, glob
 *	title = (?i)private|bank     # window title, a PCRE2 regex
 *	path = ~/personal/           # a .gitignore glob over absolute paths
 *	time = Mon-Fri 18:00-08:00   # local days, hours, or both
 *	defaults = yes               # password managers, private windows,
 *	                             # secret files
 *
 * (The '#' notes above explain; in the file a comment is a line of its
 * own, starting with '#' or ';'.) The [exclude] section is read by the recorder and 'labtape shell'
 * (filter_load()); config_load() leaves it to them.
 *
 * A leading ~/ is the home folder. Unknown sections or keys are errors
 * that name the file and line, so a typo never silently records more.
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct config {
	char *path;			/* the file read, or NULL */
	char *vault_dir;		/* NULL: the default */
	int64_t flush_interval_ns;

	int files_enabled;
	char **watch;			/* absolute paths */
	size_t nwatch;
	char **exclude;			/* globs */
	size_t nexclude;
	uint64_t max_text_size;
	unsigned snapshot_every;

	int shell_input;		/* labtape shell records keystrokes */

	char **redact_rules;		/* "NAME:REGEX" as written */
	size_t nredact_rules;
	char **redact_allow;
	size_t nredact_allow;
	char *redact_names;		/* a names file (absolute), or NULL */
};

/* Defaults: flush 1 s, files on, nothing watched (the recorder adds the
 * paths it is given), 8 MiB text cap, a snapshot every 300 edits,
 * keystrokes not recorded. */
void config_init(struct config *c);
void config_release(struct config *c);

/* The default path: $XDG_CONFIG_HOME/labtape/config, else
 * ~/.config/labtape/config. */
void config_default_path(struct buf *out);

/*
 * Reads path into c (over the defaults already there). A missing file is
 * not an error when missing_ok. Errors name the file and line.
 */
int config_load(struct config *c, const char *path, int missing_ok);

/*
 * The recorder's control socket: $LABTAPE_SOCKET if set, else
 * $XDG_RUNTIME_DIR/labtape/control, else /tmp/labtape-UID/control.
 */
void config_socket_path(struct buf *out);
/*
 * The socket of the running `labtape shell` session id, beside the
 * recorder's: "session-ID" in the control socket's folder. `labtape mark`
 * inside the session ($LABTAPE_SESSION) sends its marker there.
 */
void config_session_socket_path(struct buf *out, const char *id);

/*
 * labtape's cache (never recorded, private to the user): $LABTAPE_CACHE_DIR
 * if set, else $XDG_CACHE_HOME/labtape, else ~/.cache/labtape.
 */
void config_cache_dir(struct buf *out);

/* Adds a tree to watch (made absolute; ~/ expanded). */
int config_add_watch(struct config *c, const char *path);

/* Parses sizes such as 512, 64K, 8M, 1G (powers of 1024). */
int config_parse_size(const char *s, uint64_t *out);

#endif
