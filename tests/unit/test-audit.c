/* Unit tests for src/privacy: the audit log's chain and the consent
 * registry. Each tampering test edits audit/log as an attacker would and
 * checks that audit_verify() names the entry and what was done to it. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>
#include <xxhash.h>

#include "audit.h"
#include "chainlog.h"
#include "consent.h"
#include "error.h"
#include "fileio.h"
#include "ltime.h"
#include "test.h"
#include "testvault.h"

#define PASS TEST_PASS

static struct buf dir = BUF_INIT;

static void fresh(const char *name)
{
	test_vault_create(&dir, "audit", name);
}

static struct vault *open_vault(int unlock)
{
	struct vault *v;

	if (vault_open(&v, dir.data))
		TEST_FAIL("vault_open: %s", lt_errmsg());
	if (unlock && vault_unlock(v, PASS, strlen(PASS)))
		TEST_FAIL("vault_unlock: %s", lt_errmsg());
	return v;
}

/* n entries "pause"/"resume" with {"n": i}, appended without the key. */
static void fill(int n)
{
	struct vault *v = open_vault(0);

	for (int i = 1; i <= n; i++) {
		json_t *d = json_pack("{s:i}", "n", i);
		ASSERT_OK(audit_append(v, i % 2 ? AUDIT_PAUSE : AUDIT_RESUME, d));
		json_decref(d);
	}
	vault_free(v);
}

static void collect(void *ctx, int problem, const char *msg)
{
	struct buf *b = ctx;

	buf_addf(b, "%s: %s\n", problem ? "problem" : "note", msg);
}

/* Runs audit_verify; returns its result, the messages in out. */
static int verify(struct buf *out)
{
	struct vault *v = open_vault(1);
	int r;

	buf_reset(out);
	r = audit_verify(v, collect, out);
	vault_free(v);
	return r;
}

#define ASSERT_SAYS(b, s)                                                      \
	do {                                                                   \
		if (!strstr((b)->data, (s)))                                   \
			TEST_FAIL("no '%s' in:\n%s", (s), (b)->data);          \
	} while (0)

/* The log's file, split into its header and entries. */
struct split {
	struct buf file;
	size_t off[64], len[64];
	int n;
};

static void log_path(struct buf *p)
{
	buf_reset(p);
	buf_addf(p, "%s/audit/log", dir.data);
}

static void split_log(struct split *s)
{
	struct buf p = BUF_INIT;
	size_t off = CHAIN_HEADER_LEN;

	log_path(&p);
	buf_init(&s->file, 0);
	ASSERT_OK(lt_read_file(p.data, 1 << 20, &s->file));
	s->n = 0;
	while (off < s->file.len) {
		struct chain_entry e;
		ASSERT_EQ(chain_parse((uint8_t *)s->file.data + off,
				      s->file.len - off, off, &e), 1);
		s->off[s->n] = off;
		s->len[s->n++] = e.len;
		off += e.len;
	}
	buf_release(&p);
}

/* Writes the header and then the entries numbered (from 1) in order[]. */
static void write_log(struct split *s, const int *order, int n)
{
	struct buf p = BUF_INIT, out = BUF_INIT;

	log_path(&p);
	buf_add(&out, s->file.data, CHAIN_HEADER_LEN);
	for (int i = 0; i < n; i++)
		buf_add(&out, s->file.data + s->off[order[i] - 1],
			s->len[order[i] - 1]);
	ASSERT_OK(lt_write_file_atomic(p.data, out.data, out.len, 0600, 0));
	buf_release(&p);
	buf_release(&out);
	buf_release(&s->file);
}

TEST(intact_chain_verifies)
{
	struct buf m = BUF_INIT;

	fresh("intact");
	fill(5);
	ASSERT_OK(verify(&m));
	ASSERT_SAYS(&m, "audit log: 5 entries, chain intact");
	buf_release(&m);
}

static int read_one(void *ctx, const struct audit_entry *e)
{
	struct buf *b = ctx;
	char *d = json_dumps(e->detail, JSON_COMPACT);

	buf_addf(b, "%llu %s %s\n", (unsigned long long)e->seq, e->action, d);
	free(d);
	return 0;
}

TEST(entries_read_back)
{
	struct buf out = BUF_INIT;
	struct vault *v;

	fresh("read");
	fill(3);
	v = open_vault(0);
	/* Locked: the entries cannot be read. */
	ASSERT(audit_read(v, INT64_MIN, read_one, &out, NULL, NULL) < 0);
	vault_free(v);
	v = open_vault(1);
	buf_reset(&out);
	ASSERT_OK(audit_read(v, INT64_MIN, read_one, &out, NULL, NULL));
	ASSERT_STREQ(out.data, "1 pause {\"n\":1}\n2 resume {\"n\":2}\n"
		     "3 pause {\"n\":3}\n");
	/* Since: none is in the future. */
	buf_reset(&out);
	ASSERT_OK(audit_read(v, lt_now_ns() + LT_NS_PER_DAY, read_one, &out,
			     NULL, NULL));
	ASSERT_EQ(out.len, 0);
	ASSERT(audit_append(v, "Bad Action", NULL) == LT_EINVAL);
	vault_free(v);
	buf_release(&out);
}

TEST(edited_byte_detected)
{
	struct split s;
	struct buf m = BUF_INIT, p = BUF_INIT;
	int fd;
	uint8_t c;

	fresh("edit");
	fill(5);
	split_log(&s);
	/* One byte inside entry 3's ciphertext. */
	log_path(&p);
	fd = open(p.data, O_RDWR);
	ASSERT(fd >= 0);
	ASSERT_EQ(pread(fd, &c, 1, (off_t)(s.off[2] + 200)), 1);
	c ^= 0x20;
	ASSERT_EQ(pwrite(fd, &c, 1, (off_t)(s.off[2] + 200)), 1);
	close(fd);
	ASSERT(verify(&m) == LT_ECORRUPT);
	buf_addf(&p, ": entry 3 (by its header) at offset %zu: edited", s.off[2]);
	ASSERT_SAYS(&m, p.data);
	/* One problem, not a cascade over the entries after it. */
	ASSERT(strstr(strstr(m.data, "problem") + 1, "problem") == NULL);
	buf_release(&s.file);
	buf_release(&m);
	buf_release(&p);
}

TEST(edited_entry_with_fixed_checksum_detected)
{
	struct split s;
	struct buf m = BUF_INIT, want = BUF_INIT;
	uint8_t *e;

	fresh("edit2");
	fill(4);
	split_log(&s);
	/* An attacker who recomputes the (public) checksum: the AEAD. */
	e = (uint8_t *)s.file.data + s.off[1];
	e[CHAIN_ENTRY_FIXED + 3] ^= 1;
	{
		/* check32 is XXH3-64's low half (doc/format.md 1.4). */
		uint32_t len = (uint32_t)s.len[1];
		uint32_t c = (uint32_t)XXH3_64bits(e, len - 4);
		e[len - 4] = (uint8_t)c;
		e[len - 3] = (uint8_t)(c >> 8);
		e[len - 2] = (uint8_t)(c >> 16);
		e[len - 1] = (uint8_t)(c >> 24);
	}
	{
		int order[] = { 1, 2, 3, 4 };
		write_log(&s, order, 4);
	}
	ASSERT(verify(&m) == LT_ECORRUPT);
	buf_addf(&want, "entry 2 at offset %d: edited: it does not decrypt",
		 CHAIN_HEADER_LEN + (int)s.len[0]);
	ASSERT_SAYS(&m, want.data);
	buf_release(&m);
	buf_release(&want);
}

TEST(inserted_copy_detected)
{
	struct split s;
	struct buf m = BUF_INIT;
	int order[] = { 1, 2, 3, 4, 2, 5 };

	fresh("insert");
	fill(5);
	split_log(&s);
	write_log(&s, order, 6);
	ASSERT(verify(&m) == LT_ECORRUPT);
	ASSERT_SAYS(&m, "entry 2 at offset");
	ASSERT_SAYS(&m, "inserted: a second entry 2 (a copy?) after entry 4");
	buf_release(&m);
}

TEST(removed_entry_detected)
{
	struct split s;
	struct buf m = BUF_INIT;
	int order[] = { 1, 2, 4, 5 };

	fresh("remove");
	fill(5);
	split_log(&s);
	write_log(&s, order, 4);
	ASSERT(verify(&m) == LT_ECORRUPT);
	ASSERT_SAYS(&m, "entry 4 at offset");
	ASSERT_SAYS(&m, "missing: entry 3 before it was removed");
	/* An append refuses to build on it. */
	{
		struct vault *v = open_vault(0);
		ASSERT(audit_append(v, AUDIT_PAUSE, NULL) == LT_ECORRUPT);
		ASSERT(strstr(lt_errmsg(), "truncated or edited"));
		vault_free(v);
	}
	buf_release(&m);
}

TEST(removed_last_entry_detected)
{
	struct split s;
	struct buf m = BUF_INIT;
	int order[] = { 1, 2, 3, 4 };

	fresh("truncate");
	fill(5);
	split_log(&s);
	write_log(&s, order, 4);
	ASSERT(verify(&m) == LT_ECORRUPT);
	ASSERT_SAYS(&m, "truncated: the head in ");
	ASSERT_SAYS(&m, "names entry 5, but the log ends after entry 4");
	ASSERT_SAYS(&m, "truncated: the head in the index names entry 5");
	buf_release(&m);
}

TEST(swapped_entries_detected)
{
	struct split s;
	struct buf m = BUF_INIT;
	int order[] = { 1, 3, 2, 4, 5 };

	fresh("swap");
	fill(5);
	split_log(&s);
	write_log(&s, order, 5);
	ASSERT(verify(&m) == LT_ECORRUPT);
	ASSERT_SAYS(&m, "entry 3 at offset");
	ASSERT_SAYS(&m, "reordered: it comes before entry 2");
	buf_release(&m);
}

TEST(torn_tail_cut_on_append)
{
	struct buf m = BUF_INIT, p = BUF_INIT;
	struct split s;
	struct vault *v;
	int fd;

	fresh("torn");
	fill(2);
	split_log(&s);
	/* Half of an entry, as a crash in the middle of a write leaves. */
	log_path(&p);
	fd = open(p.data, O_WRONLY | O_APPEND);
	ASSERT(fd >= 0);
	ASSERT_EQ(write(fd, s.file.data + s.off[1], 100), 100);
	close(fd);
	buf_release(&s.file);
	v = open_vault(0);
	ASSERT_OK(audit_append(v, AUDIT_RESUME, NULL));
	vault_free(v);
	ASSERT_OK(verify(&m));
	ASSERT_SAYS(&m, "audit log: 3 entries, chain intact");
	buf_release(&m);
	buf_release(&p);
}

TEST(crash_before_head_update_recovers)
{
	struct buf m = BUF_INIT, head = BUF_INIT, hp = BUF_INIT, idx = BUF_INIT;
	struct vault *v;

	fresh("crash");
	fill(2);
	buf_addf(&hp, "%s/audit/head", dir.data);
	ASSERT_OK(lt_read_file(hp.data, 4096, &head));
	v = open_vault(0);
	ASSERT_EQ(vault_meta_get(v, "audit_head", &idx), 1);
	vault_free(v);
	fill(1);
	/* Put both heads back as they were before the third append: a
	 * writer that died after syncing its entry. */
	ASSERT_OK(lt_write_file_atomic(hp.data, head.data, head.len, 0600, 0));
	v = open_vault(0);
	ASSERT_OK(vault_meta_set(v, "audit_head", idx.data));
	vault_free(v);
	ASSERT_OK(verify(&m));
	ASSERT_SAYS(&m, "entry 3 at offset");
	ASSERT_SAYS(&m, "taken in");
	ASSERT_SAYS(&m, "audit log: 3 entries, chain intact");
	buf_release(&m);
	buf_release(&head);
	buf_release(&hp);
	buf_release(&idx);
}

TEST(lost_index_head_restored)
{
	struct buf m = BUF_INIT, p = BUF_INIT;

	fresh("reindex");
	fill(2);
	buf_addf(&p, "%s/index.db", dir.data);
	ASSERT_EQ(unlink(p.data), 0);
	ASSERT_OK(verify(&m));
	ASSERT_SAYS(&m, "restored from");
	/* And now the index guards the end again. */
	{
		struct split s;
		int order[] = { 1 };
		split_log(&s);
		write_log(&s, order, 1);
	}
	ASSERT(verify(&m) == LT_ECORRUPT);
	ASSERT_SAYS(&m, "truncated: the head in the index names entry 2");
	buf_release(&m);
	buf_release(&p);
}

TEST(concurrent_appends_keep_the_chain)
{
	struct buf m = BUF_INIT;
	pid_t kids[4];

	fresh("concurrent");
	for (int k = 0; k < 4; k++) {
		kids[k] = fork();
		ASSERT(kids[k] >= 0);
		if (kids[k] == 0) {
			struct vault *v;
			if (vault_open(&v, dir.data))
				_exit(1);
			for (int i = 0; i < 10; i++)
				if (audit_append(v, AUDIT_PAUSE, NULL))
					_exit(1);
			vault_free(v);
			_exit(0);
		}
	}
	for (int k = 0; k < 4; k++) {
		int st;
		ASSERT_EQ(waitpid(kids[k], &st, 0), kids[k]);
		ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	ASSERT_OK(verify(&m));
	ASSERT_SAYS(&m, "audit log: 40 entries, chain intact");
	buf_release(&m);
}

static int list_one(void *ctx, const struct consent *c)
{
	struct buf *b = ctx;

	buf_addf(b, "%s %s %s %s\n", c->name, consent_scope_name(c->scope),
		 c->revoked ? "revoked" : "active", c->note ? c->note : "-");
	return 0;
}

TEST(consent_registry)
{
	struct consent_ref ref, got;
	struct buf out = BUF_INIT, m = BUF_INIT;
	struct vault *v;
	int64_t now = lt_now_ns();
	enum consent_scope sc;
	unsigned n;

	fresh("consent");
	ASSERT(consent_scope_parse("everything", &sc) == LT_EINVAL);
	v = open_vault(0);
	/* Adding needs no key; checking does, and fails closed. */
	ASSERT_OK(consent_add(v, "Ada Lovelace", CONSENT_MEETINGS, now,
			      INT64_MAX, "weekly sync", &ref));
	ASSERT_EQ(strlen(ref.id), CONSENT_REF_LEN);
	ASSERT(consent_check(v, "Ada Lovelace", CONSENT_MEETINGS, now, &got) < 0);
	ASSERT_OK(consent_add(v, "Charles Babbage", CONSENT_ALL, now,
			      now + LT_NS_PER_DAY, NULL, &got));
	vault_free(v);
	v = open_vault(1);
	ASSERT_EQ(consent_check(v, "  ada   LOVELACE ", CONSENT_MEETINGS, now,
				&got), 1);
	ASSERT_STREQ(got.id, ref.id);
	ASSERT_EQ(consent_check(v, "Ada Lovelace", CONSENT_SCREEN, now, NULL), 0);
	ASSERT_EQ(consent_check(v, "Ada", CONSENT_MEETINGS, now, NULL), 0);
	ASSERT_EQ(consent_check(v, "Charles Babbage", CONSENT_SCREEN, now, NULL), 1);
	/* Past its date. */
	ASSERT_EQ(consent_check(v, "Charles Babbage", CONSENT_SCREEN,
				now + 2 * LT_NS_PER_DAY, NULL), 0);
	ASSERT_OK(consent_revoke(v, "ada lovelace", lt_now_ns(), &n));
	ASSERT_EQ(n, 1);
	ASSERT_EQ(consent_check(v, "Ada Lovelace", CONSENT_MEETINGS,
				lt_now_ns(), NULL), 0);
	ASSERT(consent_revoke(v, "Ada Lovelace", lt_now_ns(), &n) == LT_ENOENT);
	ASSERT_OK(consent_list(v, list_one, &out));
	ASSERT_STREQ(out.data, "Ada Lovelace meetings revoked weekly sync\n"
		     "Charles Babbage all active -\n");
	/* Each change is in the audit log: two adds, one revoke. */
	ASSERT_OK(audit_verify(v, collect, &m));
	ASSERT_SAYS(&m, "audit log: 3 entries, chain intact");
	vault_free(v);
	buf_release(&out);
	buf_release(&m);
}

TEST_LIST = {
	TEST_ENTRY(intact_chain_verifies),
	TEST_ENTRY(entries_read_back),
	TEST_ENTRY(edited_byte_detected),
	TEST_ENTRY(edited_entry_with_fixed_checksum_detected),
	TEST_ENTRY(inserted_copy_detected),
	TEST_ENTRY(removed_entry_detected),
	TEST_ENTRY(removed_last_entry_detected),
	TEST_ENTRY(swapped_entries_detected),
	TEST_ENTRY(torn_tail_cut_on_append),
	TEST_ENTRY(crash_before_head_update_recovers),
	TEST_ENTRY(lost_index_head_restored),
	TEST_ENTRY(concurrent_appends_keep_the_chain),
	TEST_ENTRY(consent_registry),
	TEST_END,
};

TEST_MAIN()
