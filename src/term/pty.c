#include "term.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "banned.h"

/* In the child, between fork and exec: only what it needs of the parent. */
static void child_setup(const char *session)
{
	struct sigaction sa;
	sigset_t none;

	/* Handlers are reset by exec, ignored signals are not. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The vault, the index and the parent's pipes are not the
	 * command's business. */
	closefrom(3);
	if (session)
		setenv("LABTAPE_SESSION", session, 1);
}

int term_spawn(struct term_child *c, char *const argv[],
	       const struct termios *tio, const struct winsize *ws,
	       const char *session)
{
	int fd, fl;
	pid_t pid;

	/* forkpty: openpty, fork, setsid, TIOCSCTTY, dup2 onto 0, 1, 2. */
	pid = forkpty(&fd, NULL, tio, ws);
	if (pid < 0)
		return lt_error_errno(LT_EIO, "cannot create a pseudo-terminal");
	if (pid == 0) {
		char msg[512];
		int n;

		child_setup(session);
		execvp(argv[0], argv);
		n = snprintf(msg, sizeof(msg), "labtape: cannot run '%s': %s\r\n",
			     argv[0], strerror(errno));
		if (n > 0 && write(STDERR_FILENO, msg,
				   (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1) < 0)
			_exit(127);
		_exit(127);
	}
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int r = lt_error_errno(LT_EIO, "cannot set up the pseudo-terminal");
		close(fd);
		kill(pid, SIGKILL);
		return r;
	}
	c->pid = pid;
	c->master = fd;
	return 0;
}

int term_raw(int fd, struct termios *saved)
{
	struct termios raw;

	if (tcgetattr(fd, saved) < 0)
		return lt_error_errno(LT_EIO, "cannot read the terminal's settings");
	raw = *saved;
	cfmakeraw(&raw);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	/* TCSANOW: TCSADRAIN would hang on output stopped by Ctrl-S. */
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return lt_error_errno(LT_EIO, "cannot put the terminal in raw mode");
	return 0;
}

void term_restore(int fd, const struct termios *saved)
{
	tcsetattr(fd, TCSANOW, saved);
}

static unsigned short env_dim(const char *name, unsigned short def)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > 10000)
		return def;
	return (unsigned short)v;
}

int term_winsize(int fd, struct winsize *ws)
{
	memset(ws, 0, sizeof(*ws));
	if (ioctl(fd, TIOCGWINSZ, ws) == 0 && ws->ws_col && ws->ws_row)
		return 1;
	memset(ws, 0, sizeof(*ws));
	ws->ws_col = env_dim("COLUMNS", 80);
	ws->ws_row = env_dim("LINES", 24);
	return 0;
}

int term_echoes(int master)
{
	struct termios t;

	/* On Linux, termios calls on a pty master act on the slave. */
	if (tcgetattr(master, &t) < 0)
		return 0;
	return (t.c_lflag & ECHO) != 0;
}
