/*
 * The tape writer: batches records into blocks, seals blocks into frames,
 * appends them to segments it owns, and commits.
 *
 * NOTES ON THE DESIGN (the write-ordering rules of doc/format.md, as this
 * file keeps them):
 *
 *  1. A writer only ever appends to segments it created, and holds an
 *     exclusive flock on each for as long as it may write it. Recovery
 *     (recover.c) touches only segments it can lock, i.e. whose writer is
 *     gone.
 *  2. A segment's key file is written and synced before the segment file
 *     exists under its final name; the segment's header is synced, and its
 *     directory entry too, before the index learns of the segment.
 *  3. Data frames are written at the end of the segment and are not
 *     visible to anyone until committed. A commit is: a commit frame after
 *     the data frames, fdatasync() of the segment, and only then one index
 *     transaction adding the blocks and moving the segment's committed_end.
 *     So the index never points at a block that is not synced.
 *  4. Any failure before the index transaction commits rolls the tape back:
 *     each segment is truncated to its committed_end and the pending frames
 *     are forgotten. The vault is then exactly as after the last commit.
 *  5. Closing a tape writes a commit frame with the seal flag; a sealed
 *     segment is never written again. A segment that never committed
 *     anything is deleted with its key file instead.
 *  6. Records in a block need not be in time order; the frame header holds
 *     the block's least and greatest timestamp, which is what the index
 *     and readers rely on.
 *  7. With opt.sealer, a thread of the tape's own compresses, encrypts
 *     and writes closed blocks while the caller goes on appending (a
 *     baseline reads and hashes files while the last block is sealed).
 *     The queue is a ring of SEAL_QUEUE jobs; the caller waits when it is
 *     full. The sealer alone touches a segment's end, pending frames and
 *     frame headers while jobs are queued; everything that reads them
 *     (commit, rollback, rotation, freeing) drains the queue first, so
 *     the rules above hold unchanged. A sealer error is the tape's error
 *     at the next append or commit, which rolls back as rule 4 says.
 *     The caller does not sit idle while the sealer is behind: with the
 *     queue full it seals its block itself and queues the finished frame,
 *     and while it waits it runs the oldest queued job if the sealer has
 *     not begun it. One job runs at a time, oldest first, so frames land
 *     in queue order whoever writes them.
 *     A live tape (opt.live: the shell, the recorder) must not slow what
 *     it records. Its sealer runs at idle priority, so it compresses on
 *     CPU time nothing else wants, and the caller's help above means
 *     the caller never waits for it to be scheduled before a job starts.
 *     While the sealer is behind (a job waits after the one it starts),
 *     and for the blocks the caller seals itself, blocks are compressed
 *     at zstd's fastest level. A flood of terminal output, which keeps
 *     both cores of a small machine busy by itself, then costs disk
 *     (about its own size) rather than the program's speed, while output
 *     at any ordinary rate is compressed at the usual level. Frames are
 *     zstd frames whatever the level; readers cannot tell.
 *  8. Transactions (doc/format.md 6.6). A commit that writes commit frames
 *     to several segments writes them as the parts of one transaction: each
 *     names a random transaction id and the number of parts, so that
 *     recovery keeps all of them or none (recover.c). An append or import
 *     that spans many days spans many segments, one per day.
 *  9. Deferred segments. Outside autocommit mode (append, imports), a new
 *     segment's key file, header and directory entries are written without
 *     syncs and the index learns of it only at the commit: there one
 *     syncfs() makes all of them durable, one index transaction adds them,
 *     and only then are commit frames written. So rule 2 holds, a crash
 *     before that leaves only segments that never committed (debris, which
 *     verify names and reindex clears), and a thousand days cost a few
 *     syncs rather than seven each.
 * 10. With a sealer, a deferred segment's files are made by the sealer
 *     too, queued before any block of it, so that an import's thousand
 *     new days cost its main thread nothing but the queueing. Nothing
 *     else touches a deferred segment's files before a drain; a failure
 *     is the sealer's error as in note 7, and a rollback drops deferred
 *     segments altogether (they hold nothing committed).
 * 11. Commits behind (opt.commit_behind, the shell). A periodic commit is
 *     queued as a job after the blocks it covers, and the sealer writes
 *     its commit frames, syncs and updates the index: a terminal printing
 *     fast is not held up by the disk each flush interval (on a slow disk
 *     that is a freeze a second). Rule 3 holds as is, since the job runs
 *     in queue order after its data frames. The caller reserves each
 *     commit frame's number when it queues the job (data frames queued
 *     after it take later ones), and touches the index only after a
 *     drain (a new segment, rotation, a rollback), since the sealer now
 *     uses it. One commit job is queued at a time; if it has not run by
 *     the next flush interval, the caller drains and commits in line, so
 *     a sealer starved of CPU does not stretch the time a power cut can
 *     take past two intervals. Closing, rotation and explicit commits
 *     are in line as before.
 *     The job itself only writes the commit frames, in its turn, and
 *     takes the frames they cover (their index rows to be) out of the
 *     segments; the sync and the index transaction come after, on the
 *     sealer thread alone, while later jobs run. A flood of output does
 *     not wait out each interval's fdatasync (tens of milliseconds here,
 *     far more on a slow or busy disk) with the queue full: the caller
 *     seals and writes its blocks meanwhile. Rule 3 holds: the index
 *     learns of the frames a commit frame covers only after the sync,
 *     and frames written after it wait for the next commit. A drain
 *     waits for the sync too, so that the caller still finds the index
 *     and committed ends settled when it touches them.
 *     A new segment of such a tape (a session's first record, the next
 *     day's at midnight) is made by the sealer too, as in note 10 but
 *     with rule 2's syncs and its index row, queued before any block of
 *     it: the caller does not wait for about five syncs before the
 *     session's output goes on. If that fails, the error is the tape's
 *     as in note 7, and a rollback drops the segment, which has no files.
 *     Its index row may be written while an earlier commit's sync runs
 *     on the other thread, so the two take a lock of the index (idx_mu).
 */
#define _GNU_SOURCE	/* SCHED_IDLE */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <sodium.h>
#include <zstd.h>

#include "bytes.h"
#include "error.h"
#include "fileio.h"
#include "ltime.h"
#include "xalloc.h"
#include "vault-int.h"
#include "banned.h"

#define TAPE_ZSTD_LEVEL 1
/* A live tape's blocks while its sealer is behind (note 7): zstd's
 * fastest levels find long repeats only, at several times the speed. */
#define TAPE_ZSTD_LEVEL_BEHIND (-100)
#define TAPE_SEGMENT_MAX (1LL << 30)	/* rotate segments past 1 GiB */
#define TAPE_MAX_BLOCK (16u << 20)	/* block_size is clamped to this */
#define TAPE_MAX_OPEN 64		/* open segments in autocommit mode */
#define TAPE_MAX_OPEN_TXN 16384		/* open segments in one transaction */
#define TAPE_SYNCFS_MIN 8		/* sync this many files with syncfs() */

struct pending {
	struct idx_block b;
	size_t hdr_off;		/* of its frame header copy in hdrs */
};

struct tseg {
	char *stream;
	int32_t day;
	uint8_t seg_id[VAULT_ID_LEN];
	uint8_t key_id[VAULT_ID_LEN];
	uint8_t *key;			/* sodium_malloc'd data key */
	char *path;
	int fd;
	struct idx_segment idx;		/* as committed */
	int64_t end;			/* bytes written, committed or not */
	uint64_t next_frame;
	uint64_t last_used;
	int deferred;			/* not durable nor indexed yet (note 9) */
	int key_written;		/* its key file exists */
	/* Note 11. The caller's: blocks closed since a commit last covered
	 * them. The next commit's: whether s takes a commit frame, and its
	 * number. end as the sealer last left it, read under its lock. */
	uint32_t nqueued;
	int commit_now;
	uint64_t commit_no;
	int64_t end_seen;

	/* The open block. */
	struct buf block;
	uint16_t kinds[FRAME_MAX_KINDS];	/* indexes into tape->kinds */
	unsigned nkinds;
	int64_t t_min, t_max, prev_t;
	uint32_t nrec;

	/* Frames written since the last commit. */
	struct pending *pend;
	size_t npend, pend_alloc;
	struct buf hdrs;
};

/* A closed block on its way to the sealer (note 7). */
enum job_kind {
	JOB_BLOCK,		/* seal block and write it */
	JOB_FRAME,		/* block is a sealed frame already: write it */
	JOB_CREATE,		/* make s's files (notes 10, 11) */
	JOB_COMMIT,		/* commit what the jobs before wrote (note 11) */
};

struct seal_job {
	struct tseg *s;
	enum job_kind kind;
	struct frame_header h;
	const char *names[FRAME_MAX_KINDS];
	struct buf block;
	size_t plain_len;	/* JOB_FRAME: of the block sealed in it */
	struct tseg **segs;	/* JOB_COMMIT: the segments it commits */
	size_t nsegs;
};

#define SEAL_QUEUE 3

struct sealer {
	struct vault *v;
	struct tape *t;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, done;	/* a job queued; a job finished */
	struct seal_job jobs[SEAL_QUEUE];
	unsigned head, count;		/* jobs[head] is the oldest */
	int live;			/* opt.live */
	int busy, quit;			/* busy: a job is being run */
	int commit_queued;		/* a JOB_COMMIT has not run yet */
	struct commit *sync;		/* written, to sync and index (note 11) */
	int syncing;			/* someone is doing that */
	/* The index, between a commit's sync and a segment's creation,
	 * which may run beside it on the other thread (note 11). */
	pthread_mutex_t idx_mu;
	int err;			/* the first error, until drained */
	char msg[256];
	void *cctx;
	struct buf frame, scratch;	/* the thread's */
	struct buf cframe, cscratch;	/* the caller's, when it helps */
};

struct tape {
	struct vault *v;
	struct sealer *sealer;		/* NULL: blocks sealed in line */
	struct tape_options opt;
	struct tseg **segs;
	size_t nsegs, segs_alloc;
	char **kinds;			/* interned kind names */
	size_t nkinds, kinds_alloc;
	unsigned last_kind;
	ZSTD_CCtx *cctx;
	struct buf frame, scratch;
	int64_t last_commit;		/* monotonic */
	size_t max_open;		/* segments in one transaction */
	uint64_t count, clock;
	tape_commit_hook *hook;		/* inside each commit's transaction */
	void *hook_ctx;
};

static void tseg_free(struct tseg *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);	/* also drops the flock */
	if (s->key)
		sodium_free(s->key);
	free(s->stream);
	free(s->path);
	free(s->pend);
	buf_release(&s->block);
	buf_release(&s->hdrs);
	free(s);
}

static void tape_free(struct tape *t);
static int sealer_start(struct tape *t);
static void sealer_stop(struct sealer *w);

int tape_open(struct tape **out, struct vault *v, const struct tape_options *opt)
{
	struct tape *t = xcalloc(1, sizeof(*t));
	struct tape_options def = TAPE_OPTIONS_INIT;

	t->v = v;
	t->opt = opt ? *opt : def;
	if (!t->opt.block_size)
		t->opt.block_size = def.block_size;
	if (t->opt.block_size > TAPE_MAX_BLOCK)
		t->opt.block_size = TAPE_MAX_BLOCK;
	if (t->opt.flush_interval_ns <= 0)
		t->opt.flush_interval_ns = def.flush_interval_ns;
	t->cctx = ZSTD_createCCtx();
	if (!t->cctx) {
		free(t);
		return lt_error(LT_EIO, "cannot create a zstd context");
	}
	buf_init(&t->frame, 0);
	buf_init(&t->scratch, 0);
	t->last_commit = lt_mono_ns();
	t->max_open = TAPE_MAX_OPEN_TXN;
	{
		/* Each open segment is a descriptor; leave some for the
		 * index, the key files being written and the caller. */
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur < TAPE_MAX_OPEN_TXN + 64)
			t->max_open = rl.rlim_cur > 96 ?
				      (size_t)rl.rlim_cur - 64 : 32;
	}
	/* A writer appends index rows and hardly reads them back: a small
	 * page cache, so that a recorder or shell running for days stays
	 * small (SQLite's default grows to 2 MiB). */
	idx_exec(v, "PRAGMA cache_size=-256");
	if (t->opt.sealer) {
		int r = sealer_start(t);
		if (r) {
			tape_free(t);
			return r;
		}
	}
	*out = t;
	return 0;
}

uint64_t tape_count(const struct tape *t)
{
	return t->count;
}

static void tape_free(struct tape *t)
{
	sealer_stop(t->sealer);
	for (size_t i = 0; i < t->nsegs; i++)
		tseg_free(t->segs[i]);
	for (size_t i = 0; i < t->nkinds; i++)
		free(t->kinds[i]);
	free(t->kinds);
	free(t->segs);
	ZSTD_freeCCtx(t->cctx);
	buf_release(&t->frame);
	buf_release(&t->scratch);
	free(t);
}

/*
 * Removes a segment that holds nothing committed, with its key file. If
 * the index cannot forget it (a full disk), the files stay: an index row
 * without its file would be damage, while an empty segment is only sealed
 * by the next recovery.
 */
static void seg_discard(struct tape *t, struct tseg *s)
{
	struct buf kp = BUF_INIT;
	sqlite3_stmt *st;

	if (s->idx.rowid) {
		int rc;
		if (idx_prepare(t->v, "DELETE FROM segments WHERE id = ?", &st))
			return;
		sqlite3_bind_int64(st, 1, s->idx.rowid);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return;
	}
	if (s->path)
		unlink(s->path);
	if (s->key_written) {
		vault_key_path(t->v, s->day, s->key_id, &kp);
		unlink(kp.data);
		buf_release(&kp);
	}
}

/*
 * Makes s's files: its key file, then its header under a temporary name,
 * renamed (rule 2). Synced unless s is deferred (note 9). The caller, or
 * the sealer for a deferred segment (note 10). On failure removes what it
 * made and leaves s without files (fd -1, path NULL).
 */
static int seg_files(struct vault *v, struct tseg *s)
{
	struct seg_header h = { 0 };
	struct buf path = BUF_INIT, tmp = BUF_INIT, dir = BUF_INIT;
	uint8_t hdr[SEG_HEADER_LEN];
	int r;

	if ((r = keyfile_write(v, s->key_id, s->day, s->key, s->stream,
			       !s->deferred)))
		goto out;
	s->key_written = 1;
	vault_seg_path(v, s->day, s->seg_id, &path);
	lt_dirname(path.data, &dir);
	if ((r = s->deferred ? lt_mkdirs_nosync(dir.data, 0700)
			     : lt_mkdirs(dir.data, 0700)))
		goto fail;
	buf_addf(&tmp, "%s.tmp", path.data);
	s->fd = open(tmp.data, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (s->fd < 0) {
		r = lt_error_errno(LT_EIO, "cannot create segment '%s'", tmp.data);
		goto fail;
	}
	if (flock(s->fd, LOCK_EX | LOCK_NB) < 0) {
		r = lt_error_errno(LT_EIO, "cannot lock segment '%s'", tmp.data);
		goto fail;
	}
	h.version = VAULT_VERSION;
	memcpy(h.seg_id, s->seg_id, VAULT_ID_LEN);
	memcpy(h.key_id, s->key_id, VAULT_ID_LEN);
	h.created = s->idx.created;
	h.day = s->day;
	seg_header_encode(&h, hdr);
	if ((r = lt_pwrite_all(s->fd, hdr, sizeof(hdr), 0, tmp.data)) ||
	    (!s->deferred && (r = lt_fsync(s->fd, tmp.data))))
		goto fail;
	if (rename(tmp.data, path.data) < 0) {
		r = lt_error_errno(LT_EIO, "cannot rename '%s'", tmp.data);
		goto fail;
	}
	s->path = buf_detach(&path, NULL);
	if (!s->deferred && (r = lt_fsync_dir(dir.data)))
		goto fail;
	goto out;
fail:
	if (s->path)
		unlink(s->path);
	else if (tmp.len)
		unlink(tmp.data);
	free(s->path);
	s->path = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	{
		struct buf kp = BUF_INIT;
		vault_key_path(v, s->day, s->key_id, &kp);
		unlink(kp.data);
		buf_release(&kp);
	}
	s->key_written = 0;
out:
	buf_release(&path);
	buf_release(&tmp);
	buf_release(&dir);
	return r;
}

/* Rule 2's last step: the index learns of s, whose files are durable.
 * On failure s is left without files, as seg_files() leaves it. */
static int seg_index(struct tape *t, struct tseg *s)
{
	int r;

	if (!(r = idx_begin(t->v)) &&
	    ((r = idx_add_segment(t->v, &s->idx)) || (r = idx_commit(t->v)))) {
		idx_rollback(t->v);
		s->idx.rowid = 0;
	}
	if (r) {
		seg_discard(t, s);
		close(s->fd);
		s->fd = -1;
		free(s->path);
		s->path = NULL;
		s->key_written = 0;
	}
	return r;
}

static int queue_create(struct tape *t, struct tseg *s);
static int drain(struct tape *t);

/* ids: the segment id and key id to use (forget.c names them in its
 * journal first), or NULL for random ones. */
static int seg_create(struct tape *t, const char *stream, int32_t day,
		      const uint8_t (*ids)[VAULT_ID_LEN], struct tseg **out)
{
	struct tseg *s;
	/* The sealer makes it: note 10, or note 11, where the index is the
	 * sealer's while jobs are queued. */
	int queued = t->sealer && !ids &&
		     (!t->opt.autocommit || t->opt.commit_behind);
	int r;

	if (t->opt.commit_behind && !queued && (r = drain(t)))
		return r;
	s = xcalloc(1, sizeof(*s));
	s->fd = -1;
	s->stream = xstrdup(stream);
	s->day = day;
	s->deferred = !t->opt.autocommit && !ids;	/* note 9 */
	buf_init(&s->block, 0);
	buf_init(&s->hdrs, 0);
	if (ids) {
		memcpy(s->seg_id, ids[0], VAULT_ID_LEN);
		memcpy(s->key_id, ids[1], VAULT_ID_LEN);
	} else {
		randombytes_buf(s->seg_id, VAULT_ID_LEN);
		randombytes_buf(s->key_id, VAULT_ID_LEN);
	}
	s->key = sodium_malloc(VAULT_KEY_LEN);
	if (!s->key) {
		tseg_free(s);
		return lt_error(LT_EIO, "cannot allocate locked memory");
	}
	crypto_aead_xchacha20poly1305_ietf_keygen(s->key);
	memcpy(s->idx.seg_id, s->seg_id, VAULT_ID_LEN);
	memcpy(s->idx.key_id, s->key_id, VAULT_ID_LEN);
	s->idx.day = day;
	s->idx.created = lt_now_ns();
	s->idx.committed_end = SEG_HEADER_LEN;
	s->idx.next_frame = 0;
	s->end = s->end_seen = SEG_HEADER_LEN;

	if (queued)
		r = queue_create(t, s);
	else if (!(r = seg_files(t->v, s)) && !s->deferred)
		r = seg_index(t, s);	/* rule 2: after its files */
	if (r) {
		tseg_free(s);
		return r;
	}
	*out = s;
	return 0;
}

/* Writes a sealed frame at the end of s and remembers it for the next
 * commit (rule 3); h is its header, plain_len its block's length. */
static int put_frame(struct tseg *s, const struct frame_header *h,
		     const struct buf *frame, size_t plain_len)
{
	struct pending *p;
	int r;

	if ((r = lt_pwrite_all(s->fd, frame->data, frame->len, s->end,
			       s->path)))
		return r;
	XGROW(s->pend, s->npend + 1, s->pend_alloc);
	p = &s->pend[s->npend++];
	p->b.frame_no = h->frame_no;
	p->b.offset = s->end;
	p->b.length = (uint32_t)frame->len;
	p->b.t_min = h->t_min;
	p->b.t_max = h->t_max;
	p->b.nrec = h->nrec;
	p->b.plain_len = (uint32_t)plain_len;
	p->hdr_off = s->hdrs.len;
	buf_add(&s->hdrs, frame->data, h->hlen);
	s->end += (int64_t)frame->len;
	return 0;
}

/* Seals one block of s into frame: compressed, then encrypted. */
static int seal_block(const struct tseg *s, struct frame_header *h,
		      const char *const *names, const struct buf *block,
		      int level, void *cctx, struct buf *frame,
		      struct buf *scratch)
{
	buf_reset(frame);
	return frame_build_data(h, names, s->seg_id,
				(const uint8_t *)block->data, block->len,
				s->key, cctx, level, scratch, frame);
}

/* Seals one block into a frame and writes it at the end of s. */
static int write_block(struct tseg *s, struct frame_header *h,
		       const char *const *names, const struct buf *block,
		       int level, void *cctx, struct buf *frame,
		       struct buf *scratch)
{
	int r = seal_block(s, h, names, block, level, cctx, frame, scratch);

	return r ? r : put_frame(s, h, frame, block->len);
}

/* One segment's part of a commit: its commit frame is written, and what
 * the index learns once it is synced. */
struct commit_part {
	struct tseg *s;
	int64_t end;			/* committed_end, the commit frame's end */
	uint64_t commit_no;
	struct pending *pend;		/* the data frames it covers */
	size_t npend;
	struct buf hdrs;		/* their headers */
};

/* A commit between its two halves (commit_write, commit_index). */
struct commit {
	struct commit_part *parts;
	size_t nparts;
	int seal;
};

static int commit_write(struct tseg **segs, size_t nsegs, int seal,
			struct buf *frame, struct commit **out);
static int commit_index(struct tape *t, struct commit *c);
static void commit_free(struct commit *c);

/* Makes s's files, and for a segment of a commit-behind tape tells the
 * index (notes 10, 11). */
static int create_job(struct sealer *w, struct tseg *s)
{
	int r = seg_files(w->v, s);

	if (!r && !s->deferred) {
		pthread_mutex_lock(&w->idx_mu);
		r = seg_index(w->t, s);
		pthread_mutex_unlock(&w->idx_mu);
	}
	return r;
}

/*
 * Runs the oldest queued job, with the zstd context and buffers of the
 * thread that runs it: the sealer's, or the caller's while it would
 * otherwise wait (note 7). Called locked, with a job queued and none
 * running; returns locked. One job runs at a time, oldest first, so
 * frames land in the order they were queued whichever thread runs them.
 */
static void run_job(struct sealer *w, void *cctx, struct buf *frame,
		    struct buf *scratch)
{
	struct seal_job *j = &w->jobs[w->head];
	struct commit *c = NULL;
	int r = 0, skip = w->err;
	/* Behind: another block waits after this one (a commit waiting
	 * is not more work of the kind that falls behind, note 11). */
	int level = w->live && w->count - (unsigned)w->commit_queued > 1 ?
		    TAPE_ZSTD_LEVEL_BEHIND : TAPE_ZSTD_LEVEL;

	w->busy = 1;
	pthread_mutex_unlock(&w->mu);
	/* After an error, later jobs are dropped: the tape rolls back to
	 * its last commit anyway. */
	if (skip)
		;
	else if (j->kind == JOB_CREATE)
		r = create_job(w, j->s);
	else if (j->kind == JOB_FRAME)
		r = put_frame(j->s, &j->h, &j->block, j->plain_len);
	else if (j->kind == JOB_COMMIT)
		r = commit_write(j->segs, j->nsegs, 0, frame, &c);
	else
		r = write_block(j->s, &j->h, j->names, &j->block, level, cctx,
				frame, scratch);
	buf_reset(&j->block);
	pthread_mutex_lock(&w->mu);
	if (r && !w->err) {
		w->err = r;
		snprintf(w->msg, sizeof(w->msg), "%s", lt_errmsg());
	}
	if (j->kind == JOB_COMMIT) {
		w->commit_queued = 0;
		for (size_t i = 0; i < j->nsegs; i++)
			j->segs[i]->end_seen = j->segs[i]->end;
		free(j->segs);
		j->segs = NULL;
		/* The sync and the index are the sealer's, whoever wrote. */
		if (c) {
			w->sync = c;
			pthread_cond_signal(&w->work);
		}
	} else if (j->s) {
		j->s->end_seen = j->s->end;
	}
	w->head = (w->head + 1) % SEAL_QUEUE;
	w->count--;
	w->busy = 0;
	pthread_cond_broadcast(&w->done);
}

/* Whether a commit behind waits for its sync and index (note 11). */
static int sync_due(const struct sealer *w)
{
	return w->sync && !w->syncing;
}

/* The second half of a commit behind (note 11): on the sealer thread,
 * while the caller runs later jobs, or on the caller's if it would
 * otherwise wait for an idle-priority sealer to be scheduled. Called and
 * returns locked. */
static void sync_commit(struct sealer *w)
{
	struct commit *c = w->sync;
	int r;

	w->syncing = 1;
	pthread_mutex_unlock(&w->mu);
	pthread_mutex_lock(&w->idx_mu);
	r = commit_index(w->t, c);
	pthread_mutex_unlock(&w->idx_mu);
	commit_free(c);
	pthread_mutex_lock(&w->mu);
	if (r && !w->err) {
		w->err = r;
		snprintf(w->msg, sizeof(w->msg), "%s", lt_errmsg());
	}
	w->sync = NULL;
	w->syncing = 0;
	pthread_cond_broadcast(&w->done);
}

static void *seal_main(void *arg)
{
	struct sealer *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!sync_due(w) && (w->busy || (!w->count && !w->quit)))
			pthread_cond_wait(w->busy ? &w->done : &w->work, &w->mu);
		if (sync_due(w))
			sync_commit(w);
		else if (w->count)
			run_job(w, w->cctx, &w->frame, &w->scratch);
		else
			break;		/* asked to quit, and nothing to do */
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int sealer_start(struct tape *t)
{
	struct sealer *w = xcalloc(1, sizeof(*w));

	w->v = t->v;
	w->t = t;
	w->live = t->opt.live;
	w->cctx = ZSTD_createCCtx();
	if (!w->cctx) {
		free(w);
		return lt_error(LT_EIO, "cannot create a zstd context");
	}
	buf_init(&w->frame, 0);
	buf_init(&w->scratch, 0);
	buf_init(&w->cframe, 0);
	buf_init(&w->cscratch, 0);
	for (unsigned i = 0; i < SEAL_QUEUE; i++)
		buf_init(&w->jobs[i].block, 0);
	pthread_mutex_init(&w->mu, NULL);
	pthread_mutex_init(&w->idx_mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	if (pthread_create(&w->thread, NULL, seal_main, w)) {
		pthread_mutex_destroy(&w->mu);
		pthread_mutex_destroy(&w->idx_mu);
		pthread_cond_destroy(&w->work);
		pthread_cond_destroy(&w->done);
		ZSTD_freeCCtx(w->cctx);
		free(w);
		return lt_error(LT_EIO, "cannot start the tape's sealer thread");
	}
	if (w->live) {
		/* Failing leaves it at normal priority: more compression,
		 * never anything wrong. */
		struct sched_param sp = { 0 };
		pthread_setschedparam(w->thread, SCHED_IDLE, &sp);
	}
	t->sealer = w;
	return 0;
}

static void sealer_stop(struct sealer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_mutex_destroy(&w->idx_mu);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	ZSTD_freeCCtx(w->cctx);
	buf_release(&w->frame);
	buf_release(&w->scratch);
	buf_release(&w->cframe);
	buf_release(&w->cscratch);
	for (unsigned i = 0; i < SEAL_QUEUE; i++)
		buf_release(&w->jobs[i].block);
	free(w);
}

/* The caller's wait for the sealer, locked: it runs the oldest job
 * itself if the sealer has not begun it, else waits for a job to end. So
 * the caller never waits for a sealer thread that is not scheduled (an
 * idle-priority one on a busy machine, opt.live) before a job starts.
 * sync: the wait is for a commit's sync too (a drain), so the caller
 * does that itself as well if nobody has begun it; waiting only for
 * room in the queue, it leaves the sync to the sealer (note 11). */
static void help_or_wait(struct tape *t, int sync)
{
	struct sealer *w = t->sealer;

	if (w->count && !w->busy)
		run_job(w, t->cctx, &w->cframe, &w->cscratch);
	else if (sync && sync_due(w))
		sync_commit(w);
	else
		pthread_cond_wait(&w->done, &w->mu);
}

/* The sealer's error, as the caller's; 0 if none. Called locked. */
static int sealer_error(struct sealer *w)
{
	return w->err ? lt_error(w->err, "%s", w->msg) : 0;
}

/* Waits until every queued block is written (note 7). Returns the
 * sealer's error, if any, and forgets it: the caller rolls back. */
static int drain(struct tape *t)
{
	struct sealer *w = t->sealer;
	int r;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->mu);
	while (w->count || w->busy || w->sync)
		help_or_wait(t, 1);
	r = sealer_error(w);
	w->err = 0;
	pthread_mutex_unlock(&w->mu);
	return r;
}

/*
 * The next free job of the sealer's ring, for s, once there is room:
 * returned with the sealer locked, for the caller to fill and hand over
 * with job_queue(). NULL, unlocked, with *r the sealer's error if it
 * has one (note 7).
 */
static struct seal_job *job_slot(struct tape *t, struct tseg *s,
				 enum job_kind kind, int *r)
{
	struct sealer *w = t->sealer;
	struct seal_job *j;

	pthread_mutex_lock(&w->mu);
	while (w->count == SEAL_QUEUE && !w->err)
		help_or_wait(t, 0);
	if ((*r = sealer_error(w))) {
		pthread_mutex_unlock(&w->mu);
		return NULL;
	}
	j = &w->jobs[(w->head + w->count) % SEAL_QUEUE];
	j->s = s;
	j->kind = kind;
	return j;
}

/* Hands the job from job_slot() to the sealer, and unlocks it. */
static void job_queue(struct sealer *w)
{
	w->count++;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
}

/* Whether the sealer's queue is full, so that queueing would wait. */
static int sealer_full(struct sealer *w)
{
	int full;

	pthread_mutex_lock(&w->mu);
	full = w->count == SEAL_QUEUE;
	pthread_mutex_unlock(&w->mu);
	return full;
}

/*
 * Closes the open block of s: seals it now, or queues it for the sealer.
 * When the sealer is behind, the caller seals the block itself rather
 * than wait for room, and queues the frame only to be written in its
 * turn: a busy terminal's output is then compressed on two cores at once
 * (note 7).
 */
static int close_block(struct tape *t, struct tseg *s)
{
	struct sealer *w = t->sealer;
	struct frame_header h = { 0 };
	const char *names[FRAME_MAX_KINDS];
	enum job_kind kind = JOB_BLOCK;
	struct buf *give = &s->block, swap;
	struct seal_job *j;
	int r;

	if (!s->nrec)
		return 0;
	h.frame_no = s->next_frame;
	h.nrec = s->nrec;
	h.nkinds = (uint16_t)s->nkinds;
	h.t_min = s->t_min;
	h.t_max = s->t_max;
	/* Kind names live as long as the tape. */
	for (unsigned i = 0; i < s->nkinds; i++)
		names[i] = t->kinds[s->kinds[i]];
	if (!w) {
		if ((r = write_block(s, &h, names, &s->block, TAPE_ZSTD_LEVEL,
				     t->cctx, &t->frame, &t->scratch)))
			return r;
	} else {
		if (sealer_full(w)) {
			if ((r = seal_block(s, &h, names, &s->block,
					    w->live ? TAPE_ZSTD_LEVEL_BEHIND
						    : TAPE_ZSTD_LEVEL,
					    t->cctx, &t->frame, &t->scratch)))
				return r;
			kind = JOB_FRAME;
			give = &t->frame;
		}
		if (!(j = job_slot(t, s, kind, &r)))
			return r;
		j->h = h;
		memcpy(j->names, names, s->nkinds * sizeof(*names));
		j->plain_len = s->block.len;
		swap = j->block;	/* an empty buffer, kept for reuse */
		j->block = *give;
		*give = swap;
		job_queue(w);
	}
	s->next_frame++;
	s->nqueued++;
	buf_reset(&s->block);
	s->nkinds = 0;
	s->nrec = 0;
	return 0;
}

/* Queues the making of s's files for the sealer (note 10). */
static int queue_create(struct tape *t, struct tseg *s)
{
	int r;

	if (!job_slot(t, s, JOB_CREATE, &r))
		return r;
	job_queue(t->sealer);
	return 0;
}

static int rollback_all(struct tape *t)
{
	size_t keep = 0;
	int r = 0;

	drain(t);	/* its error is the one being rolled back */
	for (size_t i = 0; i < t->nsegs; i++) {
		struct tseg *s = t->segs[i];
		if (s->deferred || s->fd < 0) {
			/* Nothing of it was ever committed nor indexed, and
			 * its files may not even exist (notes 9 to 11). */
			seg_discard(t, s);
			tseg_free(s);
			continue;
		}
		t->segs[keep++] = s;
		buf_reset(&s->block);
		s->nkinds = 0;
		s->nrec = 0;
		s->npend = 0;
		buf_reset(&s->hdrs);
		/* Synced, so that a commit frame that was synced but not
		 * indexed cannot come back after a power cut. */
		if (s->end != s->idx.committed_end &&
		    (ftruncate(s->fd, s->idx.committed_end) < 0 ||
		     lt_fsync(s->fd, s->path) < 0) && !r)
			r = lt_error_errno(LT_EIO, "cannot truncate '%s'", s->path);
		s->end = s->end_seen = s->idx.committed_end;
		s->next_frame = s->idx.next_frame;
		s->nqueued = 0;
		s->commit_now = 0;
	}
	t->nsegs = keep;
	return r;
}

int tape_rollback(struct tape *t)
{
	return rollback_all(t);
}

/* Makes the deferred segments that have frames to commit durable, then
 * adds them to the index (note 9). */
static int settle_deferred(struct tape *t)
{
	size_t i, n = 0;
	int r, fd = -1;
	const char *path = NULL;

	for (i = 0; i < t->nsegs; i++) {
		if (t->segs[i]->deferred && t->segs[i]->npend) {
			fd = t->segs[i]->fd;
			path = t->segs[i]->path;
			n++;
		}
	}
	if (!n)
		return 0;
	/* Key files, headers, data frames and directory entries at once. */
	if ((r = lt_syncfs(fd, path)) || (r = idx_begin(t->v)))
		return r;
	for (i = 0; i < t->nsegs && !r; i++) {
		struct tseg *s = t->segs[i];
		if (s->deferred && s->npend)
			r = idx_add_segment(t->v, &s->idx);
	}
	if (r || (r = idx_commit(t->v))) {
		idx_rollback(t->v);
		for (i = 0; i < t->nsegs; i++)
			if (t->segs[i]->deferred)
				t->segs[i]->idx.rowid = 0;
		return r;
	}
	for (i = 0; i < t->nsegs; i++)
		if (t->segs[i]->npend)
			t->segs[i]->deferred = 0;
	return 0;
}

/* Does s take a commit frame in this commit? */
static int takes_commit(const struct tseg *s, int seal)
{
	return s->npend || (seal && s->idx.committed_end > SEG_HEADER_LEN);
}

/*
 * The second half of a commit (rule 3, note 8), itself in two: this
 * writes a commit frame, numbered commit_no, to each segment marked
 * commit_now, and takes the frames each covers out of the segment into
 * *out (NULL if no segment takes one); commit_index() then syncs them and
 * records the frames in the index. Both run by the caller after a drain,
 * or, for a commit behind (note 11), the first by whoever runs the queued
 * job and the second by the sealer, or by the caller in a drain; frame is
 * a buffer of the running thread's. On failure the caller rolls back,
 * which truncates what was written.
 */
static int commit_write(struct tseg **segs, size_t nsegs, int seal,
			struct buf *frame, struct commit **out)
{
	struct commit *c;
	uint8_t txn[FRAME_TXN_ID_LEN];
	uint32_t parts = 0;
	size_t i;
	int r;

	*out = NULL;
	for (i = 0; i < nsegs; i++)
		parts += (uint32_t)segs[i]->commit_now;
	if (!parts)
		return 0;
	if (parts > 1)
		randombytes_buf(txn, sizeof(txn));
	for (i = 0; i < nsegs; i++) {
		struct tseg *s = segs[i];
		if (!s->commit_now)
			continue;
		buf_reset(frame);
		if (parts > 1)
			frame_build_txn_commit(s->seg_id, s->commit_no,
					       (uint32_t)s->npend, seal, txn,
					       parts, s->key, frame);
		else
			frame_build_commit(s->seg_id, s->commit_no,
					   (uint32_t)s->npend, seal, s->key,
					   frame);
		if ((r = lt_pwrite_all(s->fd, frame->data, frame->len, s->end,
				       s->path)))
			return r;
		s->end += (int64_t)frame->len;
	}
	c = xcalloc(1, sizeof(*c));
	c->parts = xcalloc(parts, sizeof(*c->parts));
	c->seal = seal;
	for (i = 0; i < nsegs; i++) {
		struct tseg *s = segs[i];
		struct commit_part *p;
		if (!s->commit_now)
			continue;
		p = &c->parts[c->nparts++];
		p->s = s;
		p->end = s->end;
		p->commit_no = s->commit_no;
		p->pend = s->pend;
		p->npend = s->npend;
		p->hdrs = s->hdrs;
		s->pend = NULL;
		s->npend = s->pend_alloc = 0;
		buf_init(&s->hdrs, 0);
		s->commit_now = 0;
	}
	*out = c;
	return 0;
}

static int commit_index(struct tape *t, struct commit *c)
{
	struct vault *v = t->v;
	int r = 0;
	size_t i, j;

	if (!c)
		return 0;
	if (c->nparts < TAPE_SYNCFS_MIN) {
		for (i = 0; i < c->nparts && !r; i++)
			r = lt_fsync(c->parts[i].s->fd, c->parts[i].s->path);
	} else {
		r = lt_syncfs(c->parts[0].s->fd, vault_dir(v));
	}
	if (r || (r = idx_begin(v)))
		return r;
	for (i = 0; i < c->nparts && !r; i++) {
		struct commit_part *p = &c->parts[i];
		struct idx_segment next = p->s->idx;
		for (j = 0; j < p->npend && !r; j++) {
			struct frame_header h;
			size_t need;
			const uint8_t *hp = (const uint8_t *)p->hdrs.data +
					    p->pend[j].hdr_off;
			r = frame_parse_header(hp, p->hdrs.len - p->pend[j].hdr_off,
					       &h, &need);
			if (!r)
				r = idx_add_block(v, next.rowid, &p->pend[j].b, &h);
		}
		next.committed_end = p->end;
		next.next_frame = p->commit_no + 1;
		next.sealed = c->seal;
		if (!r)
			r = idx_update_segment(v, &next);
	}
	if (!r && t->hook)
		r = t->hook(t->hook_ctx);
	if (r || (r = idx_commit(v))) {
		idx_rollback(v);
		return r;
	}
	for (i = 0; i < c->nparts; i++) {
		struct commit_part *p = &c->parts[i];
		p->s->idx.committed_end = p->end;
		p->s->idx.next_frame = p->commit_no + 1;
		p->s->idx.sealed = c->seal;
	}
	return 0;
}

static void commit_free(struct commit *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nparts; i++) {
		free(c->parts[i].pend);
		buf_release(&c->parts[i].hdrs);
	}
	free(c->parts);
	free(c);
}

/* Marks whether s takes a commit frame in the next commit, and numbers
 * it: data frames closed later take later numbers (note 11). */
static void reserve_commit(struct tseg *s, int takes)
{
	s->commit_now = takes;
	if (takes)
		s->commit_no = s->next_frame++;
	s->nqueued = 0;
}

/* Rule 3, notes 8 and 9, in line. seal: also seal every segment
 * (tape_close). */
static int commit(struct tape *t, int seal)
{
	struct commit *c = NULL;
	int r = 0;
	size_t i;

	for (i = 0; i < t->nsegs && !r; i++)
		r = close_block(t, t->segs[i]);
	if (!r)
		r = drain(t);
	if (!r)
		r = settle_deferred(t);
	for (i = 0; i < t->nsegs && !r; i++)
		reserve_commit(t->segs[i], takes_commit(t->segs[i], seal));
	if (!r && !(r = commit_write(t->segs, t->nsegs, seal, &t->frame, &c)))
		r = commit_index(t, c);
	commit_free(c);
	if (r) {
		rollback_all(t);
		return r;
	}
	t->last_commit = lt_mono_ns();
	return 0;
}

int tape_commit(struct tape *t)
{
	return commit(t, 0);
}

/* Seals and forgets segment i (commits first), for rotation. */
static int retire(struct tape *t, size_t i)
{
	struct tseg *s = t->segs[i];
	int r;

	if ((r = commit(t, 0)))
		return r;
	/* A seal-only commit of just this segment. */
	{
		struct tseg **all = t->segs;
		size_t n = t->nsegs;
		t->segs = &s;
		t->nsegs = 1;
		if (s->idx.committed_end > SEG_HEADER_LEN)
			r = commit(t, 1);
		else
			seg_discard(t, s);
		t->segs = all;
		t->nsegs = n;
	}
	if (r)
		return r;
	tseg_free(s);
	memmove(&t->segs[i], &t->segs[i + 1], (t->nsegs - i - 1) * sizeof(*t->segs));
	t->nsegs--;
	return 0;
}

/* Whether the periodic commit may go to the sealer (note 11): not while
 * the last one still waits, nor with a segment due for rotation. */
static int can_commit_behind(struct tape *t)
{
	struct sealer *w = t->sealer;
	int ok;

	pthread_mutex_lock(&w->mu);
	ok = !w->commit_queued && !w->sync;
	for (size_t i = 0; i < t->nsegs && ok; i++)
		ok = t->segs[i]->end_seen + (int64_t)t->segs[i]->block.len <
		     TAPE_SEGMENT_MAX;
	pthread_mutex_unlock(&w->mu);
	return ok;
}

/* Closes the open blocks and queues their commit for the sealer (note
 * 11). On failure the tape rolls back. */
static int queue_commit(struct tape *t)
{
	struct seal_job *j;
	uint32_t parts = 0;
	int r = 0;
	size_t i;

	for (i = 0; i < t->nsegs && !r; i++)
		r = close_block(t, t->segs[i]);
	for (i = 0; i < t->nsegs && !r; i++) {
		reserve_commit(t->segs[i], t->segs[i]->nqueued > 0);
		parts += (uint32_t)t->segs[i]->commit_now;
	}
	t->last_commit = lt_mono_ns();
	if (!r && parts && (j = job_slot(t, NULL, JOB_COMMIT, &r))) {
		/* Its own list: the caller may add to t->segs meanwhile. */
		j->segs = xmalloc(parts * sizeof(*j->segs));
		j->nsegs = 0;
		for (i = 0; i < t->nsegs; i++)
			if (t->segs[i]->commit_now)
				j->segs[j->nsegs++] = t->segs[i];
		t->sealer->commit_queued = 1;
		job_queue(t->sealer);
	}
	if (r)
		rollback_all(t);
	return r;
}

int tape_tick(struct tape *t)
{
	int r;

	if (!t->opt.autocommit ||
	    lt_mono_coarse_ns() - t->last_commit < t->opt.flush_interval_ns)
		return 0;
	if (t->opt.commit_behind && t->sealer && !t->hook &&
	    can_commit_behind(t))
		return queue_commit(t);
	if ((r = drain(t))) {	/* segment ends are read below */
		rollback_all(t);
		return r;
	}
	for (size_t i = 0; i < t->nsegs; i++) {
		if (t->segs[i]->end + (int64_t)t->segs[i]->block.len >=
		    TAPE_SEGMENT_MAX) {
			if ((r = retire(t, i)))
				return r;
			i--;
		}
	}
	return commit(t, 0);
}

static int find_seg(struct tape *t, const char *stream, int32_t day,
		    struct tseg **out)
{
	size_t i, lru = 0;
	int r;

	for (i = 0; i < t->nsegs; i++) {
		struct tseg *s = t->segs[i];
		if (s->day == day && !strcmp(s->stream, stream)) {
			s->last_used = ++t->clock;
			*out = s;
			return 0;
		}
		if (s->last_used < t->segs[lru]->last_used)
			lru = i;
	}
	if (t->opt.autocommit && t->nsegs >= TAPE_MAX_OPEN) {
		if ((r = retire(t, lru)))
			return r;
	} else if (t->nsegs >= t->max_open) {
		/* A transaction holds a segment open per stream and day. */
		return lt_error(LT_ETOOBIG,
				"too many streams and days in one transaction "
				"(%zu) for the limit on open files ('ulimit -n'); "
				"raise the limit or split the input (git: "
				"--rev ranges)", t->nsegs);
	}
	if ((r = seg_create(t, stream, day, NULL, out)))
		return r;
	XGROW(t->segs, t->nsegs + 1, t->segs_alloc);
	t->segs[t->nsegs++] = *out;
	(*out)->last_used = ++t->clock;
	return 0;
}

int tape_start_segment(struct tape *t, const char *stream, int32_t day,
		       const uint8_t seg_id[VAULT_ID_LEN],
		       const uint8_t key_id[VAULT_ID_LEN])
{
	uint8_t ids[2][VAULT_ID_LEN];
	struct tseg *s;
	int r;

	for (size_t i = 0; i < t->nsegs; i++)
		if (t->segs[i]->day == day && !strcmp(t->segs[i]->stream, stream))
			return lt_error(LT_EEXIST, "the tape already writes a "
					"segment for '%s' on that day", stream);
	memcpy(ids[0], seg_id, VAULT_ID_LEN);
	memcpy(ids[1], key_id, VAULT_ID_LEN);
	if ((r = seg_create(t, stream, day, (const uint8_t (*)[VAULT_ID_LEN])ids,
			    &s)))
		return r;
	XGROW(t->segs, t->nsegs + 1, t->segs_alloc);
	t->segs[t->nsegs++] = s;
	s->last_used = ++t->clock;
	return 0;
}

void tape_set_commit_hook(struct tape *t, tape_commit_hook *fn, void *ctx)
{
	t->hook = fn;
	t->hook_ctx = ctx;
}

static unsigned intern_kind(struct tape *t, const char *kind)
{
	if (t->nkinds && !strcmp(t->kinds[t->last_kind], kind))
		return t->last_kind;
	for (size_t i = 0; i < t->nkinds; i++)
		if (!strcmp(t->kinds[i], kind))
			return t->last_kind = (unsigned)i;
	XGROW(t->kinds, t->nkinds + 1, t->kinds_alloc);
	t->kinds[t->nkinds] = xstrdup(kind);
	return t->last_kind = (unsigned)t->nkinds++;
}

int tape_append(struct tape *t, const char *stream, int64_t ts,
		const char *kind, const void *payload, size_t n)
{
	size_t klen = strlen(kind), slen = strlen(stream);
	uint8_t hdr[3 * UVARINT_MAX];
	size_t hn = 0;
	unsigned k, bk;
	struct tseg *s = NULL;
	int r;

	if (klen == 0 || klen > 255)
		return lt_error(LT_EINVAL, "kind name must be 1 to 255 bytes");
	if (slen == 0 || slen > KEY_MAX_LABEL)
		return lt_error(LT_EINVAL, "stream name must be 1 to %d bytes",
				KEY_MAX_LABEL);
	if (n > TAPE_MAX_PAYLOAD)
		return lt_error(LT_ETOOBIG, "record of %zu bytes is over the "
				"limit of %u", n, TAPE_MAX_PAYLOAD);
	if (t->nkinds >= UINT16_MAX)
		return lt_error(LT_ETOOBIG, "too many distinct kinds for one tape");
	if ((r = find_seg(t, stream, lt_day_of(ts), &s)))
		goto fail;

	k = intern_kind(t, kind);
	for (bk = 0; bk < s->nkinds && s->kinds[bk] != k; bk++)
		;
	/* Close the block first if this record would overflow it. */
	if (s->nrec && (s->block.len + n + 16 > t->opt.block_size ||
			(bk == s->nkinds && s->nkinds == FRAME_MAX_KINDS))) {
		if ((r = close_block(t, s)))
			goto fail;
		bk = 0;
	}
	if (bk == s->nkinds) {
		s->kinds[s->nkinds++] = (uint16_t)k;
	}
	if (!s->nrec) {
		s->t_min = s->t_max = ts;
		s->prev_t = 0;
	} else {
		if (ts < s->t_min)
			s->t_min = ts;
		if (ts > s->t_max)
			s->t_max = ts;
	}
	hn += put_uvarint(hdr + hn, zigzag_encode((int64_t)((uint64_t)ts -
							   (uint64_t)s->prev_t)));
	hn += put_uvarint(hdr + hn, bk);
	hn += put_uvarint(hdr + hn, n);
	buf_add(&s->block, hdr, hn);
	buf_add(&s->block, payload, n);
	s->prev_t = ts;
	s->nrec++;
	t->count++;
	if (s->block.len >= t->opt.block_size && (r = close_block(t, s)))
		goto fail;
	return tape_tick(t);
fail:
	rollback_all(t);
	return r;
}

int tape_close(struct tape *t)
{
	int r = commit(t, 1);

	/* Rule 5; after a failed commit too, which rolled back to the
	 * previous commit, so that a full disk does not collect debris. */
	for (size_t i = 0; i < t->nsegs; i++)
		if (t->segs[i]->idx.committed_end <= SEG_HEADER_LEN)
			seg_discard(t, t->segs[i]);
	tape_free(t);
	return r;
}

void tape_abort(struct tape *t)
{
	rollback_all(t);
	for (size_t i = 0; i < t->nsegs; i++)
		if (t->segs[i]->idx.committed_end <= SEG_HEADER_LEN)
			seg_discard(t, t->segs[i]);
	tape_free(t);
}
