/*
 * labtape shell: a command on a pseudo-terminal, relayed to and from the
 * user's terminal and recorded into the vault as a terminal session.
 *
 * One thread and one poll(2) loop over stdin, the pty master and a
 * self-pipe that the signal handlers write to. Every read from the master
 * (up to 64 KiB) is written to stdout whole and appended to the tape as
 * one term.out record, its bytes untouched: nothing is parsed, so UTF-8
 * split across reads, escape sequences and binary output go through as
 * they came. The master is non-blocking and input waits in a buffer while
 * the pty cannot take it, so a command that neither reads nor stops
 * printing cannot deadlock the relay.
 *
 * The session writes its own tape (autocommit at the configured flush
 * interval), so it records whether or not `labtape record` runs. About
 * once a second it asks a running recorder for its status and drops
 * everything while that says "paused"; term.start is written at the first
 * moment recording is allowed, so a session started while paused still
 * begins with one. The [exclude] rules of the configuration apply as in
 * the recorder (source "shell", and the time of day), checked before each
 * record: an excluded session runs its command but records nothing.
 *
 * The session listens on a socket of its own beside the recorder's
 * (config_session_socket_path), so that `labtape mark` inside it lands
 * on its tape whether or not a recorder runs (doc/protocol.md). The poll
 * loop serves it: a few connections of one-line requests, answered at
 * once, none able to hold up the terminal.
 */
#define _GNU_SOURCE	/* accept4 */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "error.h"
#include "events.h"
#include "filter.h"
#include "hex.h"
#include "ltime.h"
#include "term.h"
#include "xalloc.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape shell [--input | --no-input] [--title T] [--vault DIR]\n"
	"                     [-- COMMAND ARGS...]\n"
	"\n"
	"Runs COMMAND (default $SHELL, else /bin/sh) on a pseudo-terminal and\n"
	"records the session into the vault: everything it prints, with its\n"
	"timing, and window resizes. Full-screen programs, job control and\n"
	"Ctrl-C behave as they do without labtape. Exits with the command's\n"
	"status (128+N if signal N ended it).\n"
	"\n"
	"The session is the stream term:ID of the vault (--vault DIR, else\n"
	"[vault] dir of the configuration, $LABTAPE_VAULT, or\n"
	"$XDG_DATA_HOME/labtape), with ID 8 hex digits printed at the start;\n"
	"it is written directly, within a flush interval ([record]\n"
	"flush_interval), whether or not 'labtape record' runs, and needs no\n"
	"passphrase. While a running recorder is paused, nothing is recorded.\n"
	"Inside, LABTAPE_SESSION=ID, and 'labtape mark TEXT' joins the session\n"
	"(through the session's own socket, with or without a recorder).\n"
	"\n"
	"  --input         also record keystrokes (term.in); or [shell] input\n"
	"                  = yes in the configuration. Never while the\n"
	"                  terminal does not echo (password prompts, full-\n"
	"                  screen programs): a marker notes that input was\n"
	"                  withheld.\n"
	"  --no-input      do not record keystrokes, whatever the configuration\n"
	"  --title T       the session's title\n"
	"  -q, --quiet     do not print the session id\n";

#define CHUNK (64 * 1024)
#define STATUS_EVERY_NS LT_NS_PER_SEC
/* After the command exits, output still arriving from its background
 * jobs is relayed until the pty is quiet this long (or closed). */
#define DRAIN_QUIET_MS 100
/* The session's socket: connections at once, and a request's size. */
#define MARK_CONNS 4
#define MARK_LINE_MAX (64 * 1024)

struct session {
	struct tape *tape;
	char id[9];
	char stream[16];
	char **argv;
	const char *title;
	struct winsize ws;
	int input;		/* record keystrokes */
	int paused;		/* a running recorder said it is paused */
	int started;		/* term.start is on the tape */
	int withheld;		/* in an echo-off stretch, marker recorded */
	int failed;		/* appending failed: the session goes on */
	struct filter *filter;	/* the [exclude] rules */
	struct buf payload;
};

/* ---- Signals and the user's terminal -------------------------------- */

static int sig_pipe[2] = { -1, -1 };
static struct termios saved_tio;
static volatile sig_atomic_t tty_raw;

static void on_signal(int sig)
{
	int e = errno;
	unsigned char b = (unsigned char)sig;

	if (write(sig_pipe[1], &b, 1) < 0) {
		/* Full: a wake-up is pending already. */
	}
	errno = e;
}

/* A crash must not leave the user's terminal raw. */
static void on_fatal(int sig)
{
	if (tty_raw)
		term_restore(STDIN_FILENO, &saved_tio);
	raise(sig);	/* SA_RESETHAND: now the default action */
}

static void restore_tty(void)
{
	if (tty_raw) {
		term_restore(STDIN_FILENO, &saved_tio);
		tty_raw = 0;
	}
}

static int setup_signals(void)
{
	static const int relayed[] = { SIGCHLD, SIGWINCH, SIGTERM, SIGHUP,
				       SIGINT, SIGQUIT };
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa;

	if (pipe(sig_pipe) < 0)
		return lt_error_errno(LT_EIO, "cannot create a pipe");
	for (int i = 0; i < 2; i++) {
		fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
		fcntl(sig_pipe[i], F_SETFL, O_NONBLOCK);
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(relayed) / sizeof(*relayed); i++)
		sigaction(relayed[i], &sa, NULL);
	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	for (size_t i = 0; i < sizeof(fatal) / sizeof(*fatal); i++)
		sigaction(fatal[i], &sa, NULL);
	/* A closed stdout is an EPIPE to handle, not a death. */
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

/* ---- Recording ------------------------------------------------------ */

static void session_fail(struct session *s)
{
	s->failed = 1;
	fprintf(stderr, "\r\nlabtape: %s; the rest of this session is not "
		"recorded\r\n", lt_errmsg());
}

static void put(struct session *s, const char *kind, const struct buf *p)
{
	if (!s->failed && tape_append(s->tape, s->stream, lt_now_ns(), kind,
				      p->data, p->len))
		session_fail(s);
}

/* Encodes data (consumed) as kind and appends it. */
static void put_json(struct session *s, const char *kind, json_t *data)
{
	buf_reset(&s->payload);
	if (ev_encode(ev_kind_find(kind), data, &s->payload))
		session_fail(s);
	else
		put(s, kind, &s->payload);
	json_decref(data);
}

static void put_start(struct session *s)
{
	json_t *cmd = json_array(), *env = json_object(), *d;
	const char *shell = getenv("SHELL"), *term = getenv("TERM");
	char cwd[PATH_MAX];

	for (char **a = s->argv; *a; a++)
		json_array_append_new(cmd, json_string(*a));
	if (shell)
		json_object_set_new(env, "SHELL", json_string(shell));
	if (term)
		json_object_set_new(env, "TERM", json_string(term));
	d = json_pack("{s:s, s:i, s:i, s:o, s:o, s:b}", "session", s->id,
		      "cols", (int)s->ws.ws_col, "rows", (int)s->ws.ws_row,
		      "command", cmd, "env", env, "input", s->input);
	if (getcwd(cwd, sizeof(cwd)))
		json_object_set_new(d, "cwd", json_string(cwd));
	if (s->title)
		json_object_set_new(d, "title", json_string(s->title));
	put_json(s, "term.start", d);
}

/* The rule excluding this session now, or NULL. */
static const struct filter_rule *excluded(struct session *s)
{
	struct filter_event e = { "shell", NULL, NULL, NULL, lt_now_ns() };
	const struct filter_rule *rule = NULL;

	filter_check(s->filter, &e, &rule);
	return rule;
}

/* Whether to record now; writes term.start first if it is not yet. */
static int recording(struct session *s)
{
	if (s->paused || s->failed || excluded(s))
		return 0;
	if (!s->started) {
		s->started = 1;
		put_start(s);
	}
	return !s->failed;
}

static void record_io(struct session *s, const char *kind, const void *p,
		      size_t n)
{
	buf_reset(&s->payload);
	if (ev_encode_term_io(&s->payload, s->id, p, n))
		session_fail(s);
	else
		put(s, kind, &s->payload);
}

/*
 * Keystrokes: only when asked for, and never while the terminal does not
 * echo, which is how programs ask for passwords. The check is made as
 * each chunk is forwarded, on the settings the command has at that time.
 */
static void record_input(struct session *s, int master, const char *p,
			 size_t n)
{
	if (!s->input)
		return;
	if (!term_echoes(master)) {
		if (!s->withheld && recording(s)) {
			put_json(s, "marker", json_pack("{s:s, s:s}", "text",
				 "input withheld: echo off", "session", s->id));
			s->withheld = 1;
		}
		return;
	}
	s->withheld = 0;
	if (recording(s))
		record_io(s, "term.in", p, n);
}

/* Asks a running recorder whether it is paused; no recorder, no pause. */
static void check_pause(struct session *s)
{
	struct ctl c = { -1, NULL };
	struct timeval tv = { 0, 250000 };	/* a hung recorder */
	json_t *req, *resp = NULL;

	if (ctl_connect(&c)) {
		s->paused = 0;
		return;
	}
	setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	req = json_pack("{s:s}", "cmd", "status");
	if (ctl_call(&c, req, &resp) == 0)
		s->paused = json_is_true(json_object_get(resp, "paused"));
	json_decref(resp);
	json_decref(req);
	ctl_close(&c);
}

static void resize(struct session *s, int master)
{
	struct winsize ws;

	if (!term_winsize(STDIN_FILENO, &ws) ||
	    (ws.ws_col == s->ws.ws_col && ws.ws_row == s->ws.ws_row))
		return;
	/* The kernel sends SIGWINCH to the command's foreground job. */
	ioctl(master, TIOCSWINSZ, &ws);
	s->ws = ws;
	if (recording(s))
		put_json(s, "term.resize", json_pack("{s:s, s:i, s:i}",
			 "session", s->id, "cols", (int)ws.ws_col,
			 "rows", (int)ws.ws_row));
}

/* ---- The relay ------------------------------------------------------ */

/* Writes all of p to a blocking (or, if made so by someone else,
 * non-blocking) fd. -1 if fd is gone. */
static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { fd, POLLOUT, 0 };
			poll(&pf, 1, -1);
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

struct mark_conn {
	int fd;			/* -1: a free slot */
	struct buf in;		/* what came, up to a whole line */
};

struct relay {
	struct session *s;
	struct term_child child;
	int status;		/* from waitpid, once reaped */
	int reaped;
	int hung_up;		/* a signal asked us to end */
	int stdin_open;
	int stdout_open;
	char *out;		/* CHUNK bytes from the master */
	char *in;		/* CHUNK bytes from stdin, for the master */
	size_t inlen, inoff;	/* in[inoff..inlen) still to write */
	int listen_fd;		/* the session's socket, or -1 */
	struct mark_conn conns[MARK_CONNS];
};

/* Handles the signals the pipe holds. Returns 1 if the loop must end. */
static int take_signals(struct relay *r)
{
	unsigned char sigs[64];
	ssize_t n;

	while ((n = read(sig_pipe[0], sigs, sizeof(sigs))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			switch (sigs[i]) {
			case SIGCHLD:
				if (!r->reaped &&
				    waitpid(r->child.pid, &r->status, WNOHANG) ==
				    r->child.pid)
					r->reaped = 1;
				break;
			case SIGWINCH:
				resize(r->s, r->child.master);
				break;
			default:
				/* Hang up the command as a closed terminal
				 * would; a second signal ends labtape. */
				if (r->hung_up)
					return 1;
				r->hung_up = 1;
				kill(r->child.pid, SIGHUP);
				kill(r->child.pid, SIGCONT);
				break;
			}
		}
	}
	return 0;
}

/* Input ended (a pipe or file as stdin): the command sees end of file. */
static void stdin_eof(struct relay *r)
{
	struct termios t;

	r->stdin_open = 0;
	if (tcgetattr(r->child.master, &t) == 0 && (t.c_lflag & ICANON) &&
	    r->inlen < CHUNK) {
		r->in[r->inlen++] = (char)t.c_cc[VEOF];
	}
}

static void from_stdin(struct relay *r)
{
	ssize_t n = read(STDIN_FILENO, r->in, CHUNK);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	r->inoff = 0;
	r->inlen = 0;
	if (n <= 0) {
		stdin_eof(r);
		return;
	}
	r->inlen = (size_t)n;
	record_input(r->s, r->child.master, r->in, (size_t)n);
}

static void to_master(struct relay *r)
{
	ssize_t n = write(r->child.master, r->in + r->inoff,
			  r->inlen - r->inoff);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0) {
		/* The pty is going away; its output says the rest. */
		r->inoff = r->inlen = 0;
		return;
	}
	r->inoff += (size_t)n;
	if (r->inoff == r->inlen)
		r->inoff = r->inlen = 0;
}

/*
 * Reads what the master has, up to CHUNK: the pty hands out at most a
 * few KiB a read, so reading on until it has no more (never waiting)
 * makes one write and one record of a burst instead of dozens. Returns 1
 * when the pty is closed for good.
 */
static int from_master(struct relay *r)
{
	size_t len = 0;
	int closed = 0;

	while (len < CHUNK) {
		ssize_t n = read(r->child.master, r->out + len, CHUNK - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			closed = 1;	/* EIO: every slave fd is closed */
			break;
		}
		len += (size_t)n;
	}
	if (!len)
		return closed;
	if (r->stdout_open && write_all(STDOUT_FILENO, r->out, len))
		r->stdout_open = 0;
	if (recording(r->s))
		record_io(r->s, "term.out", r->out, len);
	return closed;
}

/* ---- The session's socket: markers from inside ----------------------- */

/* Why the session records nothing now, or NULL if it records. */
static const char *not_recording(struct session *s)
{
	if (recording(s))
		return NULL;
	if (s->failed)
		return "recording this session failed";
	if (s->paused)
		return "the recorder is paused: nothing is recorded";
	return "an exclusion rule keeps this session from being recorded";
}

/* The answer to one request line (doc/protocol.md, "A session's
 * socket"); the caller json_decref()s it. */
static json_t *mark_answer(struct session *s, const char *line, size_t n)
{
	json_t *req = json_loadb(line, n, 0, NULL), *text;
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	const char *why;
	json_t *ans;

	text = json_object_get(req, "text");
	if (!json_is_object(req))
		why = "a request is one JSON object on one line";
	else if (!cmd || strcmp(cmd, "mark"))
		why = "a session's socket takes \"mark\" only (the recorder's "
		      "takes the rest)";
	else if (!json_is_string(text))
		why = "\"text\" is missing";
	else
		why = not_recording(s);
	if (why) {
		ans = json_pack("{s:b, s:s}", "ok", 0, "error", why);
	} else {
		put_json(s, "marker", json_pack("{s:O, s:s}", "text", text,
						"session", s->id));
		ans = s->failed ? json_pack("{s:b, s:s}", "ok", 0, "error",
					    lt_errmsg())
				: json_pack("{s:b}", "ok", 1);
	}
	json_decref(req);
	return ans;
}

static void mark_close(struct mark_conn *m)
{
	close(m->fd);
	m->fd = -1;
	buf_release(&m->in);
}

static void mark_accept(struct relay *r)
{
	int fd;

	while ((fd = accept4(r->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct mark_conn *m = NULL;
		for (int i = 0; i < MARK_CONNS && !m; i++)
			if (r->conns[i].fd < 0)
				m = &r->conns[i];
		if (!m || !ctl_peer_is_me(fd)) {
			close(fd);	/* busy, or not the user's */
			continue;
		}
		m->fd = fd;
		buf_init(&m->in, 0);
		m->in.cap = MARK_LINE_MAX;
	}
}

/* Reads what a connection sent and answers each whole line. */
static void mark_read(struct relay *r, struct mark_conn *m)
{
	char *nl;
	ssize_t n;

	if (buf_grow(&m->in, 4096)) {	/* past MARK_LINE_MAX */
		mark_close(m);
		return;
	}
	n = read(m->fd, m->in.data + m->in.len, m->in.alloc - m->in.len - 1);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		mark_close(m);
		return;
	}
	buf_setlen(&m->in, m->in.len + (size_t)n);
	while ((nl = memchr(m->in.data, '\n', m->in.len))) {
		size_t len = (size_t)(nl - m->in.data);
		json_t *ans = mark_answer(r->s, m->in.data, len);
		char *text = json_dumps(ans, JSON_COMPACT);
		size_t tl = text ? strlen(text) : 0;
		int ok = text && write(m->fd, text, tl) == (ssize_t)tl &&
			 write(m->fd, "\n", 1) == 1;

		free(text);
		json_decref(ans);
		if (!ok) {	/* a client that does not read its answers */
			mark_close(m);
			return;
		}
		memmove(m->in.data, nl + 1, m->in.len - len - 1);
		buf_setlen(&m->in, m->in.len - len - 1);
	}
}

static void relay_run(struct relay *r)
{
	int64_t next_check = lt_mono_ns() + STATUS_EVERY_NS;

	for (;;) {
		struct pollfd pf[4 + MARK_CONNS];
		nfds_t nfds = 2, in_at = 0, listen_at = 0, conn_at;
		int64_t now = lt_mono_ns();
		int timeout, k;

		pf[0] = (struct pollfd){ sig_pipe[0], POLLIN, 0 };
		pf[1] = (struct pollfd){ r->child.master, POLLIN, 0 };
		if (r->inlen)
			pf[1].events |= POLLOUT;
		else if (r->stdin_open && !r->reaped)
			pf[in_at = nfds++] = (struct pollfd){ STDIN_FILENO,
							      POLLIN, 0 };
		if (r->listen_fd >= 0)
			pf[listen_at = nfds++] = (struct pollfd){ r->listen_fd,
								  POLLIN, 0 };
		conn_at = nfds;
		for (int i = 0; i < MARK_CONNS; i++)
			if (r->conns[i].fd >= 0)
				pf[nfds++] = (struct pollfd){ r->conns[i].fd,
							      POLLIN, 0 };
		timeout = next_check > now ?
			  (int)((next_check - now) / 1000000) + 1 : 0;
		if (r->reaped && timeout > DRAIN_QUIET_MS)
			timeout = DRAIN_QUIET_MS;
		k = poll(pf, nfds, timeout);
		if (k < 0 && errno != EINTR)
			break;
		if (k == 0 && r->reaped)
			break;	/* the command is gone and the pty quiet */
		if (lt_mono_ns() >= next_check) {
			check_pause(r->s);
			if (!r->s->failed && tape_tick(r->s->tape))
				session_fail(r->s);
			next_check = lt_mono_ns() + STATUS_EVERY_NS;
		}
		if (k <= 0)
			continue;
		if ((pf[0].revents & POLLIN) && take_signals(r))
			break;
		if ((pf[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    from_master(r))
			break;
		if (r->inlen && (pf[1].revents & POLLOUT))
			to_master(r);
		if (in_at && pf[in_at].revents) {
			from_stdin(r);
			if (r->inlen)
				to_master(r);
		}
		for (nfds_t i = conn_at; i < nfds; i++) {
			for (int j = 0; j < MARK_CONNS; j++)
				if (pf[i].revents && r->conns[j].fd == pf[i].fd)
					mark_read(r, &r->conns[j]);
		}
		if (listen_at && pf[listen_at].revents)
			mark_accept(r);
	}
}

/* ---- The command ---------------------------------------------------- */

static int exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

static int open_tape(struct cli *c, const struct config *cfg,
		     struct vault **v, struct tape **t)
{
	struct tape_options opt = TAPE_OPTIONS_INIT;

	if (!c->vault)
		c->vault = cfg->vault_dir;
	if (cli_open_vault(c, v))
		return 1;
	opt.autocommit = 1;
	opt.sealer = 1;		/* compression beside the terminal's path, */
	opt.live = 1;		/* never slowing the terminal down, */
	opt.commit_behind = 1;	/* nor holding it up for the disk */
	opt.flush_interval_ns = cfg->flush_interval_ns;
	if (tape_open(t, *v, &opt)) {
		cli_error("%s", lt_errmsg());
		vault_free(*v);
		*v = NULL;
		return 1;
	}
	return 0;
}

int cmd_shell(int argc, char **argv)
{
	enum { OPT_INPUT = 2000, OPT_NO_INPUT, OPT_TITLE };
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "input", no_argument, NULL, OPT_INPUT },
		{ "no-input", no_argument, NULL, OPT_NO_INPUT },
		{ "title", required_argument, NULL, OPT_TITLE },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "shell", usage, NULL, NULL };
	struct session s = { .payload = BUF_INIT };
	struct relay r = { .s = &s, .stdin_open = 1, .stdout_open = 1,
			   .listen_fd = -1 };
	struct config cfg;
	struct buf cfgpath = BUF_INIT, sock = BUF_INIT;
	struct vault *v = NULL;
	const struct filter_rule *rule;
	struct termios tio;
	char *defargv[2] = { NULL, NULL };
	uint8_t rnd[4];
	int opt, input = -1, quiet = 0, tty, rc = 1, st;

	for (int i = 0; i < MARK_CONNS; i++)
		r.conns[i].fd = -1;
	/* One malloc arena for both threads (the sealer's would be a second
	 * one): a shell left open for days stays under 8 MiB. */
	mallopt(M_ARENA_MAX, 1);
	/* "+": options end at the command, so its own options are its. */
	while ((opt = getopt_long(argc, argv, "+hq", opts, NULL)) != -1) {
		if (opt == OPT_INPUT)
			input = 1;
		else if (opt == OPT_NO_INPUT)
			input = 0;
		else if (opt == OPT_TITLE)
			s.title = optarg;
		else if (opt == 'q')
			quiet = 1;
		else if ((st = cli_common_opt(&c, opt)) >= 0)
			return st;
	}
	if (optind < argc) {
		s.argv = argv + optind;
	} else {
		const char *sh = getenv("SHELL");
		defargv[0] = (char *)(sh && *sh ? sh : "/bin/sh");
		s.argv = defargv;
	}

	config_init(&cfg);
	config_default_path(&cfgpath);
	if (config_load(&cfg, cfgpath.data, 1)) {
		cli_error("%s", lt_errmsg());
		goto out;
	}
	s.input = input >= 0 ? input : cfg.shell_input;
	s.filter = filter_new();
	if (filter_load(s.filter, cfg.path)) {
		cli_error("%s", lt_errmsg());
		goto out;
	}
	if (open_tape(&c, &cfg, &v, &s.tape))
		goto out;
	randombytes_buf(rnd, sizeof(rnd));
	lt_hex(rnd, sizeof(rnd), s.id);
	snprintf(s.stream, sizeof(s.stream), "term:%s", s.id);

	tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &tio) == 0;
	term_winsize(STDIN_FILENO, &s.ws);
	if (setup_signals()) {
		cli_error("%s", lt_errmsg());
		goto out;
	}
	check_pause(&s);
	if ((rule = excluded(&s)))
		fprintf(stderr, "labtape: not recording this session: the "
			"exclusion rule '%s' of %s applies (the command runs "
			"all the same)\n", filter_rule_name(rule),
			cfg.path ? cfg.path : "the built-in defaults");
	else if (!quiet)
		fprintf(stderr, "labtape: recording terminal session %s%s\n",
			s.id, s.paused ? " (paused: nothing is recorded "
			"until 'labtape resume')" : "");
	config_session_socket_path(&sock, s.id);
	if (ctl_listen(sock.data, &r.listen_fd))
		fprintf(stderr, "labtape: %s; 'labtape mark' inside the session "
			"goes to the recorder only\n", lt_errmsg());
	if (term_spawn(&r.child, s.argv, tty ? &tio : NULL, &s.ws, s.id)) {
		cli_error("%s", lt_errmsg());
		goto out;
	}
	if (tty) {
		if (term_raw(STDIN_FILENO, &saved_tio) == 0)
			tty_raw = 1;
		else
			fprintf(stderr, "labtape: %s\n", lt_errmsg());
	}
	recording(&s);	/* term.start, unless paused */
	r.out = xmalloc(CHUNK);
	r.in = xmalloc(CHUNK);

	relay_run(&r);

	if (!r.reaped) {
		if (r.hung_up)
			kill(r.child.pid, SIGKILL);
		while (waitpid(r.child.pid, &r.status, 0) < 0 && errno == EINTR)
			;
	}
	restore_tty();
	close(r.child.master);
	rc = exit_status(r.status);
	if (recording(&s)) {
		json_t *end = json_pack("{s:s}", "session", s.id);
		if (WIFSIGNALED(r.status))
			json_object_set_new(end, "signal",
					    json_integer(WTERMSIG(r.status)));
		else
			json_object_set_new(end, "status", json_integer(rc));
		put_json(&s, "term.end", end);
	}
	if (!quiet && (s.started || !rule))
		fprintf(stderr, "labtape: terminal session %s ended%s\n", s.id,
			s.failed ? " (recording failed part-way)" : "");
out:
	restore_tty();
	if (r.listen_fd >= 0) {
		close(r.listen_fd);
		unlink(sock.data);
	}
	for (int i = 0; i < MARK_CONNS; i++)
		if (r.conns[i].fd >= 0)
			mark_close(&r.conns[i]);
	buf_release(&sock);
	if (s.tape && tape_close(s.tape))
		cli_error("session %s: %s", s.id, lt_errmsg());
	vault_free(v);
	free(r.out);
	free(r.in);
	buf_release(&s.payload);
	filter_free(s.filter);
	buf_release(&cfgpath);
	config_release(&cfg);
	return rc;
}
