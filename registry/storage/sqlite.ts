// The `sqlite` driver: the embedded default store, the Backend contract on one SQLite file
// (better-sqlite3), in the style of kine (k3s' etcd shim).
//
// Schema: ONE append-only log table, `kine`. Every write inserts one row, and the row id (an
// AUTOINCREMENT primary key) is the write's revision. The current value of a key is its newest
// row; a delete inserts a tombstone row (`deleted = 1`). A read at revision R sees, per key, the
// newest row with id <= R.
//
//   id               revision of this write
//   name             the key
//   created          1 when this write created the key (its createRevision is then `id`)
//   deleted          1 for a tombstone
//   create_revision  createRevision of the key (0 on `created` rows: read it as `id`)
//   prev_revision    id of the row this one replaced (0 for a first create)
//   value            the value (empty for a tombstone)
//   prev_value       the replaced row's value, so watch events carry prevKv even after compaction
//                    has removed the replaced row
//
// The compacted revision lives in a separate `meta` table (name `compact_revision`), not as a row
// of the log as in kine: it then consumes no revision and never shows up in a list or a watch.
// The current revision is `sqlite_sequence.seq` for the table: AUTOINCREMENT never reuses an id,
// so it survives compaction deleting the newest rows, and restarts.
//
// Concurrency: every write is one `BEGIN IMMEDIATE` transaction (read the current row, compare
// the expected modRevision, insert), so writers are serialised by SQLite's write lock, also across
// processes sharing the file. Ids are therefore assigned in commit order: once revision N is
// visible, every revision below N is committed too.
//
// Checkpoints: SQLite's automatic checkpoint runs inside a commit, on the writing thread, and
// fsyncs; with better-sqlite3 that would stall the server's event loop every ~1,000 WAL pages. A
// worker thread with its own connection (`sqlite-checkpointer.ts`) checkpoints PASSIVE-ly every
// CHECKPOINT_INTERVAL_MS instead, without the write lock. The writer keeps an automatic checkpoint
// at a much larger WAL (BACKSTOP_CHECKPOINT_PAGES), which also lets the WAL restart from its
// beginning under sustained writes, and covers a checkpointer that failed.
//
// Watch: driven in-process. After each committed write the event goes straight to the matching
// watchers. Rows another process wrote are picked up from the table, in revision order, before the
// next local event, and by a slow poll while watchers exist.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  prefixEnd,
  StorageError,
  type Backend,
  type GetOptions,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Watch,
  type WatchEvent,
  type WatchOptions,
} from './backend.js';
import { WatchQueue } from './watch-queue.js';

/** How long a write waits for another process' write lock before failing with Unavailable. */
const BUSY_TIMEOUT_MS = 5_000;
/** How often, while watchers exist, the file is checked for revisions written by other processes. */
const FOREIGN_WRITE_POLL_MS = 1_000;
/** How often the checkpointer thread checkpoints the WAL. */
const CHECKPOINT_INTERVAL_MS = 100;
/** WAL size (pages) at which a commit checkpoints itself (SQLite's default is 1,000). */
const BACKSTOP_CHECKPOINT_PAGES = 4_000;
/** Events are pushed to a replaying watcher in batches of at most this many. */
const REPLAY_BATCH_SIZE = 500;
/**
 * Greater than every key: the upper bound of a scan under the empty prefix. Keys are ASCII (see
 * `prefixEnd`), and SQLite compares TEXT bytewise, so U+10FFFF (UTF-8 F4 8F BF BF) sorts last.
 */
const KEYSPACE_END = '\u{10FFFF}';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kine (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value BLOB NOT NULL,
  prev_value BLOB
);
CREATE INDEX IF NOT EXISTS kine_name_index ON kine (name);
CREATE UNIQUE INDEX IF NOT EXISTS kine_name_prev_revision_uindex ON kine (name, prev_revision);
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

const ROW_COLUMNS = 'id, name, created, deleted, create_revision, prev_revision, value, prev_value';

interface Row {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: Buffer;
  prev_value: Buffer | null;
}

/**
 * Opens (creating if needed) the store at `path`; the directory is created when missing.
 *
 * Durability: WAL journal with `synchronous = NORMAL`. A committed transaction has been written
 * into the WAL file with write(2) before the commit returns; it is then in the OS page cache, so
 * killing the process (even SIGKILL) loses no acknowledged write. Only an OS crash or power loss
 * can lose the last few commits (the database stays consistent); `FULL` would fsync on every
 * commit to cover that too, at a large cost per write. SQLite documents exactly this for WAL +
 * NORMAL: such a transaction "might roll back following a power loss or system crash", and
 * nothing else. test/storage/sqlite.test.ts SIGKILLs a writer to check it.
 */
export async function openSqliteBackend(path: string): Promise<Backend> {
  if (path !== ':memory:' && !path.startsWith('file:')) mkdirSync(dirname(resolve(path)), { recursive: true });
  // `timeout` is SQLite's busy_timeout.
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.transaction(() => db.exec(SCHEMA)).immediate();
    // An in-memory database has no WAL to checkpoint; `file:` URIs are left to SQLite.
    const onDisk = path !== ':memory:' && !path.startsWith('file:');
    if (onDisk) db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
    return new SqliteBackend(db, onDisk ? startCheckpointer(resolve(path)) : undefined);
  } catch (err) {
    db.close();
    throw new StorageError('Unavailable', `sqlite: cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The checkpointer thread of the file at `path`; it does not keep the process alive. */
function startCheckpointer(path: string): Worker {
  const worker = new Worker(new URL('./sqlite-checkpointer.js', import.meta.url), {
    workerData: { path, intervalMs: CHECKPOINT_INTERVAL_MS },
  });
  // A checkpointer that fails leaves checkpoints to the writer's backstop; nothing else depends on it.
  worker.on('error', () => undefined);
  worker.unref();
  return worker;
}

interface Watcher {
  prefix: string;
  afterRevision: number;
  queue: WatchQueue;
}

class SqliteBackend implements Backend {
  readonly name = 'sqlite';

  private readonly db: Database.Database;
  private readonly statements;
  private readonly transactions;
  private readonly watchers = new Set<Watcher>();
  /** Every revision up to this one has been handed to the watchers. */
  private publishedRevision: number;
  private pollTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private readonly checkpointer: Worker | undefined;

  constructor(db: Database.Database, checkpointer?: Worker) {
    this.db = db;
    this.checkpointer = checkpointer;
    const latestRowOf = db.prepare<[string], Row>(`SELECT ${ROW_COLUMNS} FROM kine WHERE name = ? ORDER BY id DESC LIMIT 1`);
    this.statements = {
      latestRowOf,
      rowOfAt: db.prepare<[string, number], Row>(
        `SELECT ${ROW_COLUMNS} FROM kine WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1`,
      ),
      // Per key in [start, end): the newest row at or below the revision, when it is not a tombstone.
      // Walks the name index in key order, so a LIMIT stops the scan early.
      listPage: db.prepare<{ start: string; end: string; revision: number; limit: number }, Row>(`
        SELECT ${ROW_COLUMNS} FROM kine AS kv
        WHERE kv.name >= :start AND kv.name < :end AND kv.deleted = 0
          AND kv.id = (SELECT MAX(newest.id) FROM kine AS newest WHERE newest.name = kv.name AND newest.id <= :revision)
        ORDER BY kv.name
        LIMIT :limit`),
      countAfter: db.prepare<{ after: string; end: string; revision: number }, { count: number }>(`
        SELECT COUNT(*) AS count FROM kine AS kv
        WHERE kv.name > :after AND kv.name < :end AND kv.deleted = 0
          AND kv.id = (SELECT MAX(newest.id) FROM kine AS newest WHERE newest.name = kv.name AND newest.id <= :revision)`),
      rowsBetween: db.prepare<{ after: number; upTo: number; start: string; end: string }, Row>(`
        SELECT ${ROW_COLUMNS} FROM kine
        WHERE id > :after AND id <= :upTo AND name >= :start AND name < :end
        ORDER BY id`),
      insert: db.prepare<[string, number, number, number, number, Buffer, Buffer | null]>(
        'INSERT INTO kine (name, created, deleted, create_revision, prev_revision, value, prev_value) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      currentRevision: db.prepare<[], number>("SELECT seq FROM sqlite_sequence WHERE name = 'kine'").pluck(),
      compactedRevision: db.prepare<[], number>("SELECT value FROM meta WHERE name = 'compact_revision'").pluck(),
      recordCompaction: db.prepare<[number]>(
        "INSERT INTO meta (name, value) VALUES ('compact_revision', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      ),
      // Rows superseded at or below the revision (their successor has id <= revision), and
      // tombstones at or below it (the key was absent then; its older rows go by the first rule).
      compact: db.prepare<{ revision: number }>(`
        DELETE FROM kine
        WHERE id <= :revision AND (
          deleted = 1
          OR EXISTS (SELECT 1 FROM kine AS successor
                     WHERE successor.name = kine.name AND successor.prev_revision = kine.id AND successor.id <= :revision)
        )`),
    };
    const s = this.statements;

    // Each write: one IMMEDIATE transaction (see the top of the file). Returns the row written.
    this.transactions = {
      create: db.transaction((key: string, value: Buffer): Row => {
        const current = s.latestRowOf.get(key);
        if (current && !current.deleted) throw new StorageError('AlreadyExists', `${key} already exists`, { key });
        return this.insert(key, { created: 1, deleted: 0, createRevision: 0, prevRevision: current?.id ?? 0, value, prevValue: null });
      }),
      update: db.transaction((key: string, value: Buffer, expectedModRevision: number): Row => {
        const current = checkPrecondition(key, s.latestRowOf.get(key), expectedModRevision);
        return this.insert(key, {
          created: 0,
          deleted: 0,
          createRevision: createRevisionOf(current),
          prevRevision: current.id,
          value,
          prevValue: current.value,
        });
      }),
      delete: db.transaction((key: string, expectedModRevision: number | undefined): Row => {
        const current = checkPrecondition(key, s.latestRowOf.get(key), expectedModRevision);
        return this.insert(key, {
          created: 0,
          deleted: 1,
          createRevision: createRevisionOf(current),
          prevRevision: current.id,
          value: Buffer.alloc(0),
          prevValue: current.value,
        });
      }),
      compact: db.transaction((revision: number): void => {
        if (revision <= this.readCompactedRevision()) return;
        const current = this.readCurrentRevision();
        if (revision > current) {
          throw new StorageError('FutureRevision', `cannot compact at ${revision}: the current revision is ${current}`, {
            revision: current,
          });
        }
        s.compact.run({ revision });
        s.recordCompaction.run(revision);
      }),
      snapshot: db.transaction((read: () => unknown): unknown => read()),
    };
    this.publishedRevision = this.readCurrentRevision();
  }

  // ---- reads ----

  async get(key: string, options: GetOptions = {}): Promise<KeyValue | undefined> {
    return this.run('get', key, () => {
      const requested = options.revision;
      const row = requested
        ? this.snapshot(() => this.statements.rowOfAt.get(key, this.checkReadRevision(requested, key)))
        : this.statements.latestRowOf.get(key);
      return row && !row.deleted ? toKeyValue(row) : undefined;
    });
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const startKey = options.startKey ?? prefix;
    if (!startKey.startsWith(prefix)) {
      throw new StorageError('InvalidArgument', `list ${prefix}: startKey ${startKey} is not under the prefix`, {
        key: startKey,
      });
    }
    const end = prefix === '' ? KEYSPACE_END : prefixEnd(prefix);
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    return this.run('list', prefix, () =>
      this.snapshot(() => {
        const revision = options.revision ? this.checkReadRevision(options.revision, prefix) : this.readCurrentRevision();
        const rows = this.statements.listPage.all({ start: startKey, end, revision, limit: limit || -1 });
        const last = rows[rows.length - 1];
        const remaining =
          limit && rows.length === limit ? this.statements.countAfter.get({ after: last.name, end, revision })!.count : 0;
        return { items: rows.map(toKeyValue), revision, more: remaining > 0, remaining };
      }),
    );
  }

  async currentRevision(): Promise<number> {
    return this.run('currentRevision', '', () => this.readCurrentRevision());
  }

  async compactedRevision(): Promise<number> {
    return this.run('compactedRevision', '', () => this.readCompactedRevision());
  }

  async ping(): Promise<void> {
    await this.currentRevision();
  }

  // ---- writes ----

  async create(key: string, value: Buffer): Promise<KeyValue> {
    const row = this.run('create', key, () => this.transactions.create.immediate(key, value));
    this.publish(row.id, eventOf(row));
    return toKeyValue(row);
  }

  async update(key: string, value: Buffer, expectedModRevision: number): Promise<KeyValue> {
    const row = this.run('update', key, () => this.transactions.update.immediate(key, value, expectedModRevision));
    this.publish(row.id, eventOf(row));
    return toKeyValue(row);
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    const row = this.run('delete', key, () => this.transactions.delete.immediate(key, expectedModRevision));
    this.publish(row.id, eventOf(row));
    return { key, value: row.prev_value ?? Buffer.alloc(0), createRevision: row.create_revision, modRevision: row.id };
  }

  async compact(revision: number): Promise<void> {
    if (revision <= 0) return;
    this.run('compact', '', () => this.transactions.compact.immediate(revision));
  }

  // ---- watch ----

  watch(prefix: string, afterRevision: number, options: WatchOptions = {}): Watch {
    const watcher: Watcher = {
      prefix,
      afterRevision,
      queue: new WatchQueue({
        maxPendingEvents: options.maxPendingEvents,
        onClose: () => {
          this.watchers.delete(watcher);
          if (this.watchers.size === 0) this.stopPolling();
        },
      }),
    };
    const { queue } = watcher;
    if (this.closed) {
      queue.fail(closedError());
      return queue;
    }
    try {
      const compacted = this.readCompactedRevision();
      if (afterRevision < compacted) {
        queue.fail(compactedError(`watch ${prefix} after revision ${afterRevision}`, compacted, prefix));
        return queue;
      }
      // Bring the existing watchers up to the file's current revision (other processes' writes),
      // then replay the history up to that same revision and go live. All of this is synchronous,
      // so no local write can slip in between the replay and the registration: no gap, no duplicate.
      this.publish(this.readCurrentRevision());
      const rows = this.statements.rowsBetween.iterate({
        after: afterRevision,
        upTo: this.publishedRevision,
        start: prefix,
        end: prefix === '' ? KEYSPACE_END : prefixEnd(prefix),
      });
      let batch: WatchEvent[] = [];
      for (const row of rows) {
        batch.push(eventOf(row));
        if (batch.length < REPLAY_BATCH_SIZE) continue;
        queue.push(batch);
        batch = [];
        // Already cut off (WatchOverflow): stop reading; leaving the loop closes the statement.
        if (queue.done) break;
      }
      queue.push(batch);
    } catch (err) {
      queue.fail(this.translate('watch', prefix, err));
    }
    if (!queue.done) {
      this.watchers.add(watcher);
      this.startPolling();
    }
    return queue;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopPolling();
    this.failWatchers(() => closedError());
    await this.stopCheckpointer();
    this.db.close();
  }

  /** Ends the checkpointer thread (it closes its connection first) and waits for it to exit. */
  private async stopCheckpointer(): Promise<void> {
    const worker = this.checkpointer;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop');
    const killer = setTimeout(() => void worker.terminate(), 2_000);
    await exited;
    clearTimeout(killer);
  }

  // ---- helpers ----

  /** Runs reads that must see one snapshot (revision checks and rows), also with other writers on the file. */
  private snapshot<T>(read: () => T): T {
    return this.transactions.snapshot(read) as T;
  }

  /** Inserts the row of the next revision (inside a write transaction) and returns it. */
  private insert(
    key: string,
    row: { created: number; deleted: number; createRevision: number; prevRevision: number; value: Buffer; prevValue: Buffer | null },
  ): Row {
    const { lastInsertRowid } = this.statements.insert.run(
      key,
      row.created,
      row.deleted,
      row.createRevision,
      row.prevRevision,
      row.value,
      row.prevValue,
    );
    return {
      id: Number(lastInsertRowid),
      name: key,
      created: row.created,
      deleted: row.deleted,
      create_revision: row.createRevision,
      prev_revision: row.prevRevision,
      value: row.value,
      prev_value: row.prevValue,
    };
  }

  private readCurrentRevision(): number {
    return this.statements.currentRevision.get() ?? 0;
  }

  private readCompactedRevision(): number {
    return this.statements.compactedRevision.get() ?? 0;
  }

  /** `requested` when a read there can be served, else FutureRevision or Compacted. */
  private checkReadRevision(requested: number, key: string): number {
    const current = this.readCurrentRevision();
    if (requested > current) {
      throw new StorageError('FutureRevision', `revision ${requested} is newer than the current revision ${current}`, {
        key,
        revision: current,
      });
    }
    const compacted = this.readCompactedRevision();
    if (requested < compacted) throw compactedError(`read ${key} at revision ${requested}`, compacted, key);
    return requested;
  }

  /**
   * Hands the events of revisions (publishedRevision, upTo] to the watchers, in revision order.
   * `written` is the event of revision `upTo` when this process just wrote it; anything below it
   * that is not yet published was written by another process and is read from the table.
   * Never throws: it runs after a write has committed, and that write has succeeded. A watcher
   * that cannot be given a gap-free stream is failed instead.
   */
  private publish(upTo: number, written?: WatchEvent): void {
    if (upTo <= this.publishedRevision) return;
    const from = this.publishedRevision;
    this.publishedRevision = upTo;
    if (this.watchers.size === 0) return;
    const foreignUpTo = written ? upTo - 1 : upTo;
    if (foreignUpTo > from) {
      try {
        let count = 0;
        for (const row of this.statements.rowsBetween.iterate({ after: from, upTo: foreignUpTo, start: '', end: KEYSPACE_END })) {
          count++;
          this.deliver(eventOf(row));
        }
        if (count !== foreignUpTo - from) {
          // Another process compacted revisions this process had not published yet.
          const compacted = this.readCompactedRevision();
          this.failWatchers((watcher) =>
            compactedError(`watch ${watcher.prefix}: revisions written by another process`, compacted, watcher.prefix),
          );
        }
      } catch (err) {
        this.failWatchers((watcher) => this.translate('watch', watcher.prefix, err));
      }
    }
    if (written) this.deliver(written);
  }

  private failWatchers(error: (watcher: Watcher) => StorageError): void {
    for (const watcher of [...this.watchers]) watcher.queue.fail(error(watcher));
  }

  private deliver(event: WatchEvent): void {
    for (const watcher of this.watchers) {
      if (event.kv.modRevision > watcher.afterRevision && event.kv.key.startsWith(watcher.prefix)) {
        watcher.queue.push([event]);
      }
    }
  }

  private startPolling(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => {
      try {
        this.publish(this.readCurrentRevision());
      } catch (err) {
        this.failWatchers((watcher) => this.translate('watch', watcher.prefix, err));
      }
    }, FOREIGN_WRITE_POLL_MS);
    this.pollTimer.unref();
  }

  private stopPolling(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  /** Runs one synchronous database call, turning every failure into a StorageError. */
  private run<T>(op: string, key: string, call: () => T): T {
    if (this.closed) throw closedError();
    try {
      return call();
    } catch (err) {
      throw this.translate(op, key, err);
    }
  }

  private translate(op: string, key: string, err: unknown): StorageError {
    if (err instanceof StorageError) return err;
    if (this.closed) return closedError();
    const message = err instanceof Error ? err.message : String(err);
    // SQLITE_BUSY (the write lock was held longer than the busy timeout), I/O errors, a full disk:
    // nothing was written, and the caller may retry.
    return new StorageError('Unavailable', `sqlite ${op} ${key}: ${message}`, { key, cause: err });
  }
}

/** The current row when the key exists and its modRevision is `expected` (or none is given). */
function checkPrecondition(key: string, current: Row | undefined, expected: number | undefined): Row {
  if (!current || current.deleted) throw new StorageError('NotFound', `${key} not found`, { key });
  if (expected !== undefined && current.id !== expected) {
    throw new StorageError('Conflict', `${key} was modified (modRevision is now ${current.id})`, {
      key,
      current: toKeyValue(current),
    });
  }
  return current;
}

function createRevisionOf(row: Row): number {
  return row.created ? row.id : row.create_revision;
}

function toKeyValue(row: Row): KeyValue {
  return { key: row.name, value: row.value ?? Buffer.alloc(0), createRevision: createRevisionOf(row), modRevision: row.id };
}

function eventOf(row: Row): WatchEvent {
  const prevKv: KeyValue | undefined = row.created
    ? undefined
    : { key: row.name, value: row.prev_value ?? Buffer.alloc(0), createRevision: row.create_revision, modRevision: row.prev_revision };
  if (row.deleted) {
    // As etcd reports a delete event: no value, no creation revision, modRevision = the delete.
    return { type: 'delete', kv: { key: row.name, value: Buffer.alloc(0), createRevision: 0, modRevision: row.id }, prevKv };
  }
  return { type: 'put', kv: toKeyValue(row), prevKv };
}

function closedError(): StorageError {
  return new StorageError('Closed', 'the sqlite store is closed');
}

function compactedError(what: string, compactedRevision: number, key: string): StorageError {
  return new StorageError('Compacted', `${what}: revision compacted (compacted revision ${compactedRevision})`, {
    key,
    revision: compactedRevision,
  });
}
