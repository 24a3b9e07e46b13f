#ifndef LABTAPE_TESTVAULT_H
#define LABTAPE_TESTVAULT_H

/*
 * A fresh vault for a unit test: $TEST_TMPDIR/PREFIX-NAME-PID (or under
 * /tmp), emptied first, created with passphrase TEST_PASS and the fast
 * KDF. Its path is left in dir. For the runners that need a vault.
 */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "vault.h"
#include "test.h"

#define TEST_PASS "correct horse"

static inline void test_vault_create(struct buf *dir, const char *prefix,
				     const char *name)
{
	const char *tmp = getenv("TEST_TMPDIR");
	struct buf cmd = BUF_INIT;

	buf_reset(dir);
	buf_addf(dir, "%s/%s-%s-%d", tmp ? tmp : "/tmp", prefix, name,
		 (int)getpid());
	buf_addf(&cmd, "rm -rf '%s'", dir->data);
	if (system(cmd.data) != 0)
		TEST_FAIL("cannot clean %s", dir->data);
	buf_release(&cmd);
	ASSERT_OK(vault_create(dir->data, TEST_PASS, strlen(TEST_PASS),
			       VAULT_KDF_FAST));
}

#endif
