#ifndef LABTAPE_TERM_H
#define LABTAPE_TERM_H

/*
 * Pseudo-terminals for `labtape shell`: start a command on a new pty, put
 * the user's terminal in raw mode and back, and find a window size.
 *
 *	struct term_child c;
 *	term_winsize(STDIN_FILENO, &ws);
 *	term_spawn(&c, argv, isatty(0) ? &tio : NULL, &ws, "4f2a09c1");
 *	term_raw(STDIN_FILENO, &saved);
 *	... relay between STDIN/STDOUT and c.master ...
 *	term_restore(STDIN_FILENO, &saved);
 *
 * Linux (and glibc's forkpty) is what this is written and tested on.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <termios.h>

struct term_child {
	pid_t pid;	/* the command: a session leader, the pty its terminal */
	int master;	/* the pty's master side, non-blocking, close-on-exec */
};

/*
 * Runs argv[0] (searched in $PATH) with argv on a new pty whose settings
 * are tio (NULL: the kernel's defaults) and window ws. The child has the
 * pty as its controlling terminal and stdin, stdout and stderr, default
 * signal dispositions, no other open files, and LABTAPE_SESSION=session
 * in its environment (unless session is NULL). If exec fails, the child
 * says why on the pty and exits 127. Returns 0 or LT_EIO.
 */
int term_spawn(struct term_child *c, char *const argv[],
	       const struct termios *tio, const struct winsize *ws,
	       const char *session);

/*
 * Puts the terminal fd in raw mode (cfmakeraw), saving its settings in
 * *saved first. 0, or LT_EIO if fd is not a terminal or cannot be set.
 */
int term_raw(int fd, struct termios *saved);
/* Puts back what term_raw saved; async-signal-safe. */
void term_restore(int fd, const struct termios *saved);

/*
 * The window size of terminal fd; if fd is not a terminal (or says 0x0),
 * $COLUMNS and $LINES, else 80x24. Returns 1 if it came from a terminal.
 */
int term_winsize(int fd, struct winsize *ws);

/* Whether the terminal behind the pty master fd echoes input now (the
 * slave's ECHO flag: off at password prompts). 0 if it cannot tell, so
 * that doubt withholds input rather than records it. */
int term_echoes(int master);

#endif
