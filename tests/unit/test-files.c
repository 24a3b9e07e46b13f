/* Unit tests for the files source's parts: ignore rules and the shadow
 * cache (src/util/globs.c, src/sources/files-shadow.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "files-int.h"
#include "test.h"

static struct globs *rules(const char *text)
{
	struct globs *r = globs_new();

	globs_parse(r, text, strlen(text));
	return r;
}

#define IGN(r, path, dir) ASSERT_EQ(globs_match(r, path, dir), GLOBS_IGNORE)
#define KEEP(r, path, dir) ASSERT_EQ(globs_match(r, path, dir), GLOBS_KEEP)
#define NONE(r, path, dir) ASSERT_EQ(globs_match(r, path, dir), GLOBS_NO_MATCH)

TEST(rules_defaults)
{
	struct globs *r = rules(files_default_rules);

	IGN(r, ".git", 1);
	IGN(r, ".git", 0);		/* a worktree's .git file */
	IGN(r, "sub/.hg", 1);
	NONE(r, "sub/.hg", 0);
	IGN(r, "build", 1);
	NONE(r, "build", 0);		/* a file called build is kept */
	IGN(r, "a/b/node_modules", 1);
	IGN(r, "x/__pycache__", 1);
	IGN(r, "x/.ipynb_checkpoints", 1);
	IGN(r, "main.o", 0);
	IGN(r, "src/mod.pyc", 0);
	IGN(r, ".paper.tex.swp", 0);
	IGN(r, "paper.tex~", 0);
	IGN(r, ".#paper.tex", 0);
	IGN(r, "#paper.tex#", 0);
	IGN(r, ".env", 0);
	IGN(r, "deploy/.env.production", 0);
	IGN(r, "server.pem", 0);
	IGN(r, "tls/server.key", 0);
	IGN(r, "id_rsa", 0);
	IGN(r, "id_rsa.pub", 0);
	IGN(r, "keys/id_ed25519", 0);
	NONE(r, "paper.tex", 0);
	NONE(r, "notes/env.md", 0);
	NONE(r, "keyboard.md", 0);
	NONE(r, "builds", 1);
	NONE(r, ".gitignore", 0);
	globs_free(r);
}

TEST(rules_syntax)
{
	struct globs *r = rules(
		"# a comment\n"
		"\n"
		"   \n"
		"*.log\n"
		"!keep.log\n"
		"trailing   \n"
		"\\#hash\n"
		"\\!bang\n"
		"esc\\ \n"
		"crlf\r\n");

	ASSERT_EQ(globs_count(r), 7);
	IGN(r, "a.log", 0);
	IGN(r, "deep/er/b.log", 0);
	KEEP(r, "keep.log", 0);
	KEEP(r, "x/keep.log", 0);
	IGN(r, "trailing", 0);
	NONE(r, "trailing   ", 0);
	IGN(r, "#hash", 0);
	IGN(r, "!bang", 0);
	IGN(r, "esc ", 0);
	IGN(r, "crlf", 0);
	NONE(r, "# a comment", 0);
	globs_free(r);
}

TEST(rules_last_match_wins)
{
	struct globs *r = rules("!important.txt\n*.txt\n");

	IGN(r, "important.txt", 0);
	globs_free(r);
	r = rules("*.txt\n!important.txt\n");
	KEEP(r, "important.txt", 0);
	IGN(r, "other.txt", 0);
	globs_free(r);
}

TEST(rules_anchored)
{
	struct globs *r = rules("/top\ndoc/*.pdf\n/out/\n");

	IGN(r, "top", 0);
	NONE(r, "a/top", 0);
	IGN(r, "doc/x.pdf", 0);
	NONE(r, "doc/sub/x.pdf", 0);	/* '*' does not cross '/' */
	NONE(r, "a/doc/x.pdf", 0);	/* anchored: only at the top */
	IGN(r, "out", 1);
	NONE(r, "out", 0);
	NONE(r, "x/out", 1);
	globs_free(r);
}

TEST(rules_double_star)
{
	struct globs *r = rules("**/logs\na/**/b\nfoo/**\n**/deep/*.c\n");

	IGN(r, "logs", 1);
	IGN(r, "x/y/logs", 1);
	IGN(r, "a/b", 0);
	IGN(r, "a/x/b", 0);
	IGN(r, "a/x/y/b", 0);
	NONE(r, "a/x/c", 0);
	IGN(r, "foo/x", 0);
	IGN(r, "foo/x/y", 0);
	NONE(r, "foo", 1);		/* a trailing ** is what is inside */
	IGN(r, "deep/m.c", 0);
	IGN(r, "p/q/deep/m.c", 0);
	NONE(r, "deep/sub/m.c", 0);
	globs_free(r);
}

TEST(rules_wildcards)
{
	struct globs *r = rules("file?.txt\n[abc].md\n[!x-z]*.dat\nv[0-9]\n");

	IGN(r, "file1.txt", 0);
	NONE(r, "file10.txt", 0);
	IGN(r, "b.md", 0);
	NONE(r, "d.md", 0);
	IGN(r, "a1.dat", 0);
	NONE(r, "y1.dat", 0);
	IGN(r, "v7", 1);
	NONE(r, "vx", 1);
	globs_free(r);
}

TEST(rules_empty)
{
	struct globs *r = globs_new();

	NONE(r, "anything", 0);
	globs_add(r, "!", 1);
	globs_add(r, "/", 1);
	globs_add(r, "#x", 2);
	ASSERT_EQ(globs_count(r), 0);
	NONE(NULL, "x", 0);
	globs_free(r);
}

/* ---- the shadow cache -------------------------------------------------- */

static void scratch(struct buf *out, const char *name)
{
	const char *tmp = getenv("TEST_TMPDIR");
	struct buf cmd = BUF_INIT;

	buf_reset(out);
	buf_addf(out, "%s/test-files-%s-%ld", tmp && *tmp ? tmp : "/tmp", name,
		 (long)getpid());
	buf_addf(&cmd, "rm -rf '%s'", out->data);
	ASSERT_EQ(system(cmd.data), 0);
	buf_release(&cmd);
}

static void rm_rf(const char *path)
{
	struct buf cmd = BUF_INIT;

	buf_addf(&cmd, "rm -rf '%s'", path);
	ASSERT_EQ(system(cmd.data), 0);
	buf_release(&cmd);
}

TEST(shadow_roundtrip)
{
	struct buf dir = BUF_INIT, content = BUF_INIT, p = BUF_INIT;
	struct files_shadow sh;
	struct files_meta m, got;
	struct stat st;
	int64_t from, to;

	scratch(&dir, "rt");
	ASSERT_OK(files_shadow_open(&sh, dir.data, "/home/ada/papers", 1000,
				    &from, &to));
	/* No clean stop: from the newest write less 1000 on. */
	ASSERT(from > 0 && to == INT64_MAX);
	ASSERT_EQ(stat(dir.data, &st), 0);
	ASSERT_EQ(st.st_mode & 0777, 0700);
	ASSERT_EQ(files_shadow_read(&sh, "a/b.txt", &got, NULL), LT_ENOENT);

	files_meta_new(&m);
	ASSERT_EQ(strncmp(m.doc, "file:", 5), 0);
	ASSERT_EQ(strlen(m.doc), 21);
	m.seq = 7;
	m.since = 3;
	m.saves = 2;
	m.base = FILES_BASE_TEXT;
	m.size = 6;
	m.mtime = 1234567890123456789LL;
	ASSERT_OK(files_shadow_write(&sh, "a/b.txt", &m, "h\0llo\n", 6));
	files_shadow_path(&sh, "a/b.txt", &p);
	ASSERT_EQ(stat(p.data, &st), 0);
	ASSERT_EQ(st.st_mode & 0777, 0600);

	ASSERT_OK(files_shadow_read(&sh, "a/b.txt", &got, &content));
	ASSERT_STREQ(got.doc, m.doc);
	ASSERT_EQ(got.seq, 7);
	ASSERT_EQ(got.since, 3);
	ASSERT_EQ(got.saves, 2);
	ASSERT_EQ(got.base, FILES_BASE_TEXT);
	ASSERT_EQ(got.mtime, m.mtime);
	ASSERT_EQ(content.len, 6);
	ASSERT_MEMEQ(content.data, "h\0llo\n", 6);
	ASSERT(got.written > 0);

	/* Bytes kept after the text (a notebook's cell ids). */
	m.size = 3;
	ASSERT_OK(files_shadow_write(&sh, "n.ipynb", &m, "{ }a\nb\n", 8));
	ASSERT_EQ(m.extra, 5);
	ASSERT_OK(files_shadow_read(&sh, "n.ipynb", &got, &content));
	ASSERT_EQ(got.size, 3);
	ASSERT_EQ(got.extra, 5);
	ASSERT_EQ(content.len, 8);
	ASSERT_MEMEQ(content.data, "{ }a\nb\n", 8);

	/* A blob keeps no content. */
	m.base = FILES_BASE_BLOB;
	m.size = 1u << 30;
	ASSERT_OK(files_shadow_write(&sh, "big.bin", &m, "ignored", 7));
	ASSERT_OK(files_shadow_read(&sh, "big.bin", &got, &content));
	ASSERT_EQ(got.base, FILES_BASE_BLOB);
	ASSERT_EQ(got.size, 1u << 30);
	ASSERT_EQ(content.len, 0);

	/* Clean stop, then open again: everything trusted. */
	files_shadow_close(&sh, 1, 0, 0);
	ASSERT_OK(files_shadow_open(&sh, dir.data, "/home/ada/papers", 1000,
				    &from, &to));
	ASSERT(from == 0 && to == 0);
	/* A clean stop that knew of a loss passes it on. */
	files_shadow_close(&sh, 1, 123456789, 223456789);
	ASSERT_OK(files_shadow_open(&sh, dir.data, "/home/ada/papers", 1000,
				    &from, &to));
	ASSERT_EQ(from, 123456789);
	ASSERT_EQ(to, 223456789);
	/* A crash: the newest write in the cache, less the margin. */
	files_shadow_close(&sh, 0, 0, 0);
	ASSERT_OK(files_shadow_open(&sh, dir.data, "/home/ada/papers",
				    5 * 1000000000LL, &from, &to));
	ASSERT(from > 0 && from < got.written && to == INT64_MAX);
	files_shadow_close(&sh, 0, 0, 0);
	rm_rf(dir.data);
	buf_release(&dir);
	buf_release(&content);
	buf_release(&p);
}

TEST(shadow_damage)
{
	struct buf dir = BUF_INIT, content = BUF_INIT, p = BUF_INIT;
	struct files_shadow sh;
	struct files_meta m, got;
	int64_t from, to;
	FILE *fp;

	scratch(&dir, "dmg");
	ASSERT_OK(files_shadow_open(&sh, dir.data, "/r", 0, &from, &to));
	files_meta_new(&m);
	m.base = FILES_BASE_TEXT;
	m.size = 5;
	ASSERT_OK(files_shadow_write(&sh, "t.txt", &m, "hello", 5));
	files_shadow_path(&sh, "t.txt", &p);

	/* Damaged text: the document stays, its base does not. */
	fp = fopen(p.data, "r+");
	ASSERT(fp);
	ASSERT_EQ(fseek(fp, -1, SEEK_END), 0);
	fputc('X', fp);
	fclose(fp);
	ASSERT_OK(files_shadow_read(&sh, "t.txt", &got, &content));
	ASSERT_STREQ(got.doc, m.doc);
	ASSERT_EQ(got.base, FILES_BASE_NONE);
	ASSERT_EQ(content.len, 0);

	/* Forgotten in place (a full disk): the document, not its text. */
	ASSERT_OK(files_shadow_write(&sh, "t.txt", &m, "hello", 5));
	m.seq = 42;
	ASSERT_OK(files_shadow_forget(&sh, "t.txt", &m));
	ASSERT_OK(files_shadow_read(&sh, "t.txt", &got, &content));
	ASSERT_STREQ(got.doc, m.doc);
	ASSERT_EQ(got.seq, 42);
	ASSERT_EQ(got.base, FILES_BASE_NONE);
	ASSERT_EQ(content.len, 0);
	struct stat st;
	ASSERT_EQ(stat(p.data, &st), 0);
	ASSERT_EQ(st.st_size, 256);
	ASSERT(files_shadow_forget(&sh, "missing.txt", &m) < 0);

	/* A damaged header: no record at all (and it is removed). */
	fp = fopen(p.data, "w");
	ASSERT(fp);
	fputs("labtape-shadow 1\ndoc nonsense\n\n", fp);
	fclose(fp);
	ASSERT_EQ(files_shadow_read(&sh, "t.txt", &got, NULL), LT_ENOENT);
	ASSERT_EQ(access(p.data, F_OK), -1);
	files_shadow_close(&sh, 0, 0, 0);
	rm_rf(dir.data);
	buf_release(&dir);
	buf_release(&content);
	buf_release(&p);
}

static int has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return 1;
	return 0;
}

TEST(shadow_rename_list_remove)
{
	struct buf dir = BUF_INIT;
	struct files_shadow sh;
	struct files_meta m, got;
	char **v;
	size_t n;
	int64_t from, to;

	scratch(&dir, "mv");
	ASSERT_OK(files_shadow_open(&sh, dir.data, "/r", 0, &from, &to));
	files_meta_new(&m);
	m.base = FILES_BASE_TEXT;
	m.size = 1;
	ASSERT_OK(files_shadow_write(&sh, "d/x", &m, "x", 1));
	ASSERT_OK(files_shadow_write(&sh, "d/e/y", &m, "y", 1));
	ASSERT_OK(files_shadow_write(&sh, "z", &m, "z", 1));

	ASSERT_OK(files_shadow_list(&sh, "", &v, &n));
	ASSERT_EQ(n, 3);
	ASSERT(has(v, n, "d/x") && has(v, n, "d/e/y") && has(v, n, "z"));
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);

	/* A folder moves in one go. */
	ASSERT_OK(files_shadow_rename(&sh, "d", "new/place"));
	ASSERT_EQ(files_shadow_read(&sh, "d/x", &got, NULL), LT_ENOENT);
	ASSERT_OK(files_shadow_read(&sh, "new/place/e/y", &got, NULL));
	ASSERT_OK(files_shadow_list(&sh, "new", &v, &n));
	ASSERT_EQ(n, 2);
	ASSERT(has(v, n, "new/place/x") && has(v, n, "new/place/e/y"));
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);

	/* A file where a folder of records was, and the other way round. */
	ASSERT_OK(files_shadow_write(&sh, "new", &m, "n", 1));
	ASSERT_OK(files_shadow_read(&sh, "new", &got, NULL));
	ASSERT_OK(files_shadow_write(&sh, "z/inner", &m, "i", 1));
	ASSERT_OK(files_shadow_read(&sh, "z/inner", &got, NULL));

	ASSERT_OK(files_shadow_remove(&sh, "z"));
	ASSERT_OK(files_shadow_remove(&sh, "missing/too"));
	ASSERT_OK(files_shadow_list(&sh, "", &v, &n));
	ASSERT_EQ(n, 1);
	ASSERT_STREQ(v[0], "new");
	free(v[0]);
	free(v);
	files_shadow_close(&sh, 0, 0, 0);
	rm_rf(dir.data);
	buf_release(&dir);
}

TEST_LIST = {
	TEST_ENTRY(rules_defaults),
	TEST_ENTRY(rules_syntax),
	TEST_ENTRY(rules_last_match_wins),
	TEST_ENTRY(rules_anchored),
	TEST_ENTRY(rules_double_star),
	TEST_ENTRY(rules_wildcards),
	TEST_ENTRY(rules_empty),
	TEST_ENTRY(shadow_roundtrip),
	TEST_ENTRY(shadow_damage),
	TEST_ENTRY(shadow_rename_list_remove),
	TEST_END,
};

TEST_MAIN()
