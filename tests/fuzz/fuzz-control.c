/*
 * Fuzz target for the control protocol: each input is one request line,
 * handled by a real recorder's dispatcher (a real vault in a scratch
 * folder, a real tape) without its event loop running. Nothing may crash,
 * leak, or leave the vault unreadable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "error.h"
#include "recorder-int.h"
#include "xalloc.h"

static struct recorder rec;
static struct recorder_options opts;
static struct config cfg;
static unsigned runs;

static void setup(void)
{
	char dir[] = "/tmp/labtape-fuzz-control.XXXXXX";
	char vdir[512];
	struct tape_options t = TAPE_OPTIONS_INIT;

	if (!mkdtemp(dir))
		abort();
	snprintf(vdir, sizeof(vdir), "%s/vault", dir);
	if (vault_create(vdir, "fuzz", 4, VAULT_KDF_FAST) ||
	    vault_open(&rec.v, vdir) || vault_open(&rec.agent, vdir) ||
	    tape_open(&rec.tape, rec.v, &t) || uv_loop_init(&rec.loop))
		abort();
	config_init(&cfg);
	opts.cfg = &cfg;
	opts.vault_dir = xstrdup(vdir);
	opts.socket_path = "/nonexistent/control";
	rec.o = &opts;
	buf_init(&rec.payload, 0);
	uv_timer_init(&rec.loop, &rec.flush);
	uv_timer_init(&rec.loop, &rec.pause_timer);
	uv_timer_init(&rec.loop, &rec.lock_timer);
	rec.flush.data = rec.pause_timer.data = rec.lock_timer.data = &rec;
	/* Let the agent hold the key, so that unseal is reachable. */
	if (vault_unlock(rec.agent, "fuzz", 4))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out;

	if (!rec.v)
		setup();
	out = control_handle(&rec, (const char *)data, size);
	if (!out || !strstr(out, "\"ok\""))
		abort();	/* every request gets an answer */
	free(out);
	/* Keep the tape from growing without bound across runs. */
	if (++runs % 1000 == 0 && tape_commit(rec.tape))
		abort();
	return 0;
}
