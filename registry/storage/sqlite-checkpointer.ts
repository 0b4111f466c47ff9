// The sqlite driver's WAL checkpointer, run in a worker thread (see `sqlite.ts`, "Checkpoints").
//
// A checkpoint copies the pages the WAL holds back into the database file and fsyncs both files.
// Left to SQLite's automatic checkpoint, that happens inside the commit of every ~1,000th page,
// on the thread that wrote: with better-sqlite3 that is the server's event loop, stalled for the
// fsyncs (milliseconds to tens of milliseconds) while every in-flight request waits. Here a
// second connection to the same file checkpoints PASSIVE-ly on its own thread: it never takes the
// write lock, so the server's writes and reads go on meanwhile.
//
// workerData: `{ path, intervalMs }`. The parent's `postMessage('stop')` ends the loop and closes
// the connection; the thread then exits.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };

const db = new Database(path, { timeout: 0 });
// The mode is the file's (WAL, set by the writer); the checkpoint's fsyncs follow `synchronous`.
db.pragma('synchronous = NORMAL');

function checkpoint(): void {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // SQLITE_BUSY (another checkpoint is running) or a transient I/O error: the next tick retries,
    // and the writer's own (much larger) automatic checkpoint stays as the backstop.
  }
}

const timer = setInterval(checkpoint, intervalMs);

parentPort!.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
