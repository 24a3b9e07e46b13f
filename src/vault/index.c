/*
 * The index: SQLite in WAL mode, saying which blocks exist, where, for
 * which stream (by key id), with which kinds and time range. It holds no
 * recorded content and can be rebuilt from the segments (maint.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "xalloc.h"
#include "vault-int.h"
#include "banned.h"

#define INDEX_VERSION 1

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(\n"
	"  key TEXT PRIMARY KEY,\n"
	"  value\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE IF NOT EXISTS segments(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  seg_id BLOB NOT NULL UNIQUE,\n"
	"  key_id BLOB NOT NULL,\n"
	"  day INTEGER NOT NULL,\n"
	"  created INTEGER NOT NULL,\n"
	"  committed_end INTEGER NOT NULL,\n"
	"  next_frame INTEGER NOT NULL,\n"
	"  sealed INTEGER NOT NULL DEFAULT 0\n"
	");\n"
	"CREATE INDEX IF NOT EXISTS segments_unsealed ON segments(sealed)"
	"  WHERE sealed = 0;\n"
	"CREATE INDEX IF NOT EXISTS segments_day ON segments(day);\n"
	"CREATE TABLE IF NOT EXISTS blocks(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  segment INTEGER NOT NULL REFERENCES segments(id),\n"
	"  frame INTEGER NOT NULL,\n"
	"  offset INTEGER NOT NULL,\n"
	"  length INTEGER NOT NULL,\n"
	"  t_min INTEGER NOT NULL,\n"
	"  t_max INTEGER NOT NULL,\n"
	"  records INTEGER NOT NULL,\n"
	"  plain_len INTEGER NOT NULL,\n"
	"  UNIQUE(segment, frame)\n"
	");\n"
	"CREATE INDEX IF NOT EXISTS blocks_time ON blocks(t_min);\n"
	"CREATE TABLE IF NOT EXISTS kinds(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE\n"
	");\n"
	"CREATE TABLE IF NOT EXISTS block_kinds(\n"
	"  kind INTEGER NOT NULL,\n"
	"  block INTEGER NOT NULL,\n"
	"  PRIMARY KEY(kind, block)\n"
	") WITHOUT ROWID;\n";

int idx_error(struct vault *v, const char *what)
{
	int rc = sqlite3_errcode(v->db);
	int sys = sqlite3_system_errno(v->db);

	/* A full disk shows as SQLITE_FULL, or as an I/O error with ENOSPC
	 * when SQLite cannot grow the -shm or -wal file. */
	if (rc == SQLITE_FULL ||
	    (rc == SQLITE_IOERR && (sys == ENOSPC || sys == EDQUOT)))
		return lt_error(LT_ENOSPC, "cannot %s the index of '%s': disk "
				"full (free some space and try again)", what,
				v->dir);
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return lt_error(LT_EBUSY, "cannot %s the index of '%s': it stayed "
				"locked by another process", what, v->dir);
	return lt_error(LT_EDB, "cannot %s the index of '%s': %s", what, v->dir,
			sqlite3_errmsg(v->db));
}

int idx_exec(struct vault *v, const char *sql)
{
	if (sqlite3_exec(v->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return idx_error(v, "update");
	return 0;
}

int idx_prepare(struct vault *v, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(v->db, sql, -1, st, NULL) != SQLITE_OK)
		return idx_error(v, "query");
	return 0;
}

int idx_begin(struct vault *v)
{
	return idx_exec(v, "BEGIN IMMEDIATE");
}

int idx_commit(struct vault *v)
{
	return idx_exec(v, "COMMIT");
}

void idx_rollback(struct vault *v)
{
	if (!sqlite3_get_autocommit(v->db))
		sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
}

static int check_meta(struct vault *v)
{
	sqlite3_stmt *st;
	int r, version = -1;
	char id[2 * VAULT_ID_LEN + 1] = "";

	if ((r = idx_prepare(v, "SELECT key, value FROM meta", &st)))
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		if (!k)
			continue;
		if (!strcmp(k, "version"))
			version = sqlite3_column_int(st, 1);
		else if (!strcmp(k, "vault_id") && sqlite3_column_text(st, 1))
			snprintf(id, sizeof(id), "%s",
				 (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (version == -1) {
		/* A new index: stamp it. */
		char sql[256];
		snprintf(sql, sizeof(sql),
			 "INSERT INTO meta VALUES('format', 'labtape-index'),"
			 "('version', %d), ('vault_id', '%s')",
			 INDEX_VERSION, v->id_hex);
		return idx_exec(v, sql);
	}
	if (version != INDEX_VERSION)
		return lt_error(LT_EVERSION,
				"the index of '%s' has version %d; this labtape "
				"reads version %d (upgrade labtape, or remove "
				"index.db and run 'labtape reindex')",
				v->dir, version, INDEX_VERSION);
	if (strcmp(id, v->id_hex) != 0)
		return lt_error(LT_ECORRUPT,
				"the index of '%s' belongs to another vault "
				"(remove index.db and run 'labtape reindex')",
				v->dir);
	return 0;
}

int idx_open(struct vault *v, int *created)
{
	char path[4096];
	int fd, r;

	snprintf(path, sizeof(path), "%s/" VAULT_INDEX_FILE, v->dir);
	/* Create the file ourselves so that it (and so its -wal and -shm,
	 * which SQLite gives the same mode) is private from the start. */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	*created = fd >= 0;
	if (fd >= 0)
		close(fd);
	else if (errno != EEXIST)
		return lt_error_errno(LT_EIO, "cannot create '%s'", path);

	if (sqlite3_open_v2(path, &v->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		r = lt_error(LT_EDB, "cannot open the index '%s': %s", path,
			     v->db ? sqlite3_errmsg(v->db) : "out of memory");
		idx_close(v);
		return r;
	}
	sqlite3_busy_timeout(v->db, 30000);
	/*
	 * synchronous=FULL: an index commit is durable when it returns, so an
	 * append that exited 0 survives power loss. The cost is one WAL sync
	 * per commit, i.e. per flush interval. secure_delete: freed pages are
	 * zeroed, so forgotten index rows do not linger in the file.
	 */
	if ((r = idx_exec(v, "PRAGMA journal_mode=WAL")) ||
	    (r = idx_exec(v, "PRAGMA synchronous=FULL")) ||
	    (r = idx_exec(v, "PRAGMA secure_delete=ON")) ||
	    (r = idx_begin(v)))
		goto fail;
	if ((r = idx_exec(v, schema)) || (r = check_meta(v)) ||
	    (r = idx_commit(v))) {
		idx_rollback(v);
		goto fail;
	}
	return 0;
fail:
	idx_close(v);
	return r;
}

void idx_close(struct vault *v)
{
	sqlite3_finalize(v->st_block);
	sqlite3_finalize(v->st_block_kind);
	sqlite3_finalize(v->st_kind_ins);
	sqlite3_finalize(v->st_kind_sel);
	v->st_block = v->st_block_kind = v->st_kind_ins = v->st_kind_sel = NULL;
	if (v->db)
		sqlite3_close(v->db);
	v->db = NULL;
}

int idx_add_segment(struct vault *v, struct idx_segment *s)
{
	sqlite3_stmt *st;
	int r;

	if ((r = idx_prepare(v,
			     "INSERT INTO segments(seg_id, key_id, day, created,"
			     " committed_end, next_frame, sealed)"
			     " VALUES(?, ?, ?, ?, ?, ?, ?)",
			     &st)))
		return r;
	sqlite3_bind_blob(st, 1, s->seg_id, VAULT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, s->key_id, VAULT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, s->day);
	sqlite3_bind_int64(st, 4, s->created);
	sqlite3_bind_int64(st, 5, s->committed_end);
	sqlite3_bind_int64(st, 6, (int64_t)s->next_frame);
	sqlite3_bind_int(st, 7, s->sealed);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = idx_error(v, "update");
	else
		s->rowid = sqlite3_last_insert_rowid(v->db);
	sqlite3_finalize(st);
	return r;
}

int idx_update_segment(struct vault *v, const struct idx_segment *s)
{
	sqlite3_stmt *st;
	int r;

	if ((r = idx_prepare(v,
			     "UPDATE segments SET committed_end = ?,"
			     " next_frame = ?, sealed = ? WHERE id = ?",
			     &st)))
		return r;
	sqlite3_bind_int64(st, 1, s->committed_end);
	sqlite3_bind_int64(st, 2, (int64_t)s->next_frame);
	sqlite3_bind_int(st, 3, s->sealed);
	sqlite3_bind_int64(st, 4, s->rowid);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = idx_error(v, "update");
	sqlite3_finalize(st);
	return r;
}

/* The id of a kind name, added if new. Statements are cached in v. */
static int kind_id(struct vault *v, const char *name, size_t len, int64_t *id)
{
	int r = 0;

	if (!v->st_kind_ins &&
	    ((r = idx_prepare(v, "INSERT OR IGNORE INTO kinds(name) VALUES(?)",
			      &v->st_kind_ins)) ||
	     (r = idx_prepare(v, "SELECT id FROM kinds WHERE name = ?",
			      &v->st_kind_sel))))
		return r;
	sqlite3_bind_text(v->st_kind_sel, 1, name, (int)len, SQLITE_STATIC);
	if (sqlite3_step(v->st_kind_sel) == SQLITE_ROW) {
		*id = sqlite3_column_int64(v->st_kind_sel, 0);
		sqlite3_reset(v->st_kind_sel);
		return 0;
	}
	sqlite3_reset(v->st_kind_sel);
	sqlite3_bind_text(v->st_kind_ins, 1, name, (int)len, SQLITE_STATIC);
	if (sqlite3_step(v->st_kind_ins) != SQLITE_DONE)
		r = idx_error(v, "update");
	else
		*id = sqlite3_last_insert_rowid(v->db);
	sqlite3_reset(v->st_kind_ins);
	return r;
}

int idx_add_block(struct vault *v, int64_t seg_rowid, const struct idx_block *b,
		  const struct frame_header *h)
{
	int64_t block;
	int r = 0;

	if (!v->st_block &&
	    ((r = idx_prepare(v,
			      "INSERT INTO blocks(segment, frame, offset, length,"
			      " t_min, t_max, records, plain_len)"
			      " VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
			      &v->st_block)) ||
	     (r = idx_prepare(v, "INSERT INTO block_kinds(kind, block)"
			      " VALUES(?, ?)", &v->st_block_kind))))
		return r;
	sqlite3_bind_int64(v->st_block, 1, seg_rowid);
	sqlite3_bind_int64(v->st_block, 2, (int64_t)b->frame_no);
	sqlite3_bind_int64(v->st_block, 3, b->offset);
	sqlite3_bind_int64(v->st_block, 4, b->length);
	sqlite3_bind_int64(v->st_block, 5, b->t_min);
	sqlite3_bind_int64(v->st_block, 6, b->t_max);
	sqlite3_bind_int64(v->st_block, 7, b->nrec);
	sqlite3_bind_int64(v->st_block, 8, b->plain_len);
	if (sqlite3_step(v->st_block) != SQLITE_DONE)
		r = idx_error(v, "update");
	sqlite3_reset(v->st_block);
	if (r)
		return r;
	block = sqlite3_last_insert_rowid(v->db);
	for (unsigned i = 0; i < h->nkinds && !r; i++) {
		const char *name;
		size_t len;
		int64_t kid = 0;
		frame_kind(h, i, &name, &len);
		if ((r = kind_id(v, name, len, &kid)))
			break;
		sqlite3_bind_int64(v->st_block_kind, 1, kid);
		sqlite3_bind_int64(v->st_block_kind, 2, block);
		if (sqlite3_step(v->st_block_kind) != SQLITE_DONE)
			r = idx_error(v, "update");
		sqlite3_reset(v->st_block_kind);
	}
	return r;
}

int vault_meta_get(struct vault *v, const char *key, struct buf *out)
{
	sqlite3_stmt *st;
	int r, rc;

	if ((r = idx_prepare(v, "SELECT value FROM meta WHERE key = ?", &st)))
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		buf_reset(out);
		if (t)
			buf_add(out, t, (size_t)sqlite3_column_bytes(st, 0));
		r = 1;
	} else if (rc == SQLITE_DONE) {
		r = 0;
	} else {
		r = idx_error(v, "read");
	}
	sqlite3_finalize(st);
	return r;
}

int vault_meta_set(struct vault *v, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int r;

	if ((r = idx_prepare(v, "INSERT OR REPLACE INTO meta VALUES(?, ?)",
			     &st)))
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : idx_error(v, "update");
	sqlite3_finalize(st);
	return r;
}
