#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "error.h"
#include "fileio.h"
#include "recorder.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape record [PATH...] [--detach] [--config FILE] [--vault DIR]\n"
	"\n"
	"Starts the recorder: it watches the configured folders (or the PATHs\n"
	"given, or the current folder) and records every save of every file\n"
	"into the vault, until 'labtape stop'. It needs no passphrase.\n"
	"\n"
	"  --detach         run in the background (log in\n"
	"                   $XDG_STATE_HOME/labtape/recorder.log)\n"
	"  --config FILE    the configuration (default\n"
	"                   $XDG_CONFIG_HOME/labtape/config; see below)\n"
	"  --vault DIR      the vault (default: the configuration's [vault] dir,\n"
	"                   $LABTAPE_VAULT, $XDG_DATA_HOME/labtape)\n"
	"\n"
	"Control it with 'labtape status', 'pause', 'resume', 'mark', 'note',\n"
	"'unlock', 'lock' and 'stop'. The configuration is INI:\n"
	"\n"
	"  [record]\n"
	"  flush_interval = 1s     # events are on disk within this\n"
	"  [files]\n"
	"  enabled = yes\n"
	"  watch = ~/papers        # repeat for more folders\n"
	"  exclude = *.bak         # globs, as in .gitignore; repeatable\n"
	"  max_text_size = 8M      # bigger files are stored as chunks\n"
	"  snapshot_every = 300    # a full snapshot every N edits\n"
	"  [exclude]               # never recorded, from any source:\n"
	"  source = shell          # a source (files, shell, editor)\n"
	"  app = keepassxc         # an application or window class (glob)\n"
	"  title = (?i)incognito   # a window title (PCRE2 regex)\n"
	"  path = ~/personal/      # a path (glob, as in .gitignore)\n"
	"  time = Mon-Fri 18:00-08:00   # local days, hours, or both\n"
	"  defaults = yes          # password managers, private browsing\n"
	"                          # windows, secret files (ssh, gpg, ...)\n"
	"\n"
	"A comment is a line of its own starting with '#' or ';'.\n";

static int ready_fd = -1;

static void ready(void *ctx)
{
	(void)ctx;
	if (ready_fd >= 0) {
		if (write(ready_fd, "1", 1) < 0)
			ready_fd = -1;
		close(ready_fd);
		ready_fd = -1;
	}
}

static void log_path(struct buf *out)
{
	const char *e;

	buf_reset(out);
	if ((e = getenv("XDG_STATE_HOME")) && *e)
		buf_addf(out, "%s/labtape", e);
	else
		buf_addf(out, "%s/.local/state/labtape",
			 (e = getenv("HOME")) && *e ? e : ".");
	lt_mkdirs(out->data, 0700);
	buf_addstr(out, "/recorder.log");
}

/* Forks; the parent waits until the child listens, then exits. */
static int detach(const char *logfile)
{
	int fds[2], fd;
	pid_t pid;
	char c;

	if (pipe(fds) < 0)
		return cli_error("cannot detach: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return cli_error("cannot detach: %s", strerror(errno));
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &c, 1) == 1) {
			fprintf(stderr, "labtape: recording in the background "
				"(pid %ld, log %s)\n", (long)pid, logfile);
			_exit(0);
		}
		_exit(cli_error("the recorder did not start; see %s", logfile));
	}
	close(fds[0]);
	ready_fd = fds[1];
	setsid();
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	return 0;
}

int cmd_record(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "detach", no_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "record", usage, NULL, NULL };
	struct recorder_options o = { 0 };
	struct buf cfgpath = BUF_INIT, vdir = BUF_INIT, sock = BUF_INIT,
		   logf = BUF_INIT;
	struct config cfg;
	const char *cfgfile = NULL;
	struct vault *v;
	int opt, r, want_detach = 0;

	while ((opt = getopt_long(argc, argv, "hdc:", opts, NULL)) != -1) {
		if (opt == 'd')
			want_detach = 1;
		else if (opt == 'c')
			cfgfile = optarg;
		else if ((r = cli_common_opt(&c, opt)) >= 0)
			return r;
	}
	config_init(&cfg);
	if (cfgfile)
		buf_addstr(&cfgpath, cfgfile);
	else
		config_default_path(&cfgpath);
	if (config_load(&cfg, cfgpath.data, cfgfile == NULL)) {
		r = cli_error("%s", lt_errmsg());
		goto out;
	}
	for (int i = optind; i < argc; i++)
		config_add_watch(&cfg, argv[i]);
	if (!cfg.nwatch)
		config_add_watch(&cfg, ".");

	vault_default_dir(c.vault ? c.vault : cfg.vault_dir, &vdir);
	/* Fail early, in the foreground, if there is no vault. */
	if (vault_open(&v, vdir.data)) {
		r = cli_error("%s", lt_errmsg());
		goto out;
	}
	vault_free(v);
	config_socket_path(&sock);
	o.cfg = &cfg;
	o.vault_dir = vdir.data;
	o.socket_path = sock.data;
	o.ready = ready;
	if (want_detach) {
		log_path(&logf);
		if ((r = detach(logf.data)))
			goto out;
	}
	r = recorder_run(&o);
	if (r) {
		ready_fd = -1;
		r = cli_error("%s", lt_errmsg());
	}
out:
	config_release(&cfg);
	buf_release(&cfgpath);
	buf_release(&vdir);
	buf_release(&sock);
	buf_release(&logf);
	return r ? 1 : 0;
}
