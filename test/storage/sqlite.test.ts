// The storage conformance suite on the sqlite driver (a fresh database in a temp dir per test),
// plus what only a file-backed store has: durability across a killed process, the revision
// counter across compaction and reopening, and several processes sharing one file.
import test, { type ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteBackend } from '../../registry/storage/sqlite.js';
import { code, collect, registerStorageConformance, value } from './cases.js';

function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-storage-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

registerStorageConformance('sqlite', {
  async open() {
    const { dir, remove } = tempDir();
    return { backend: await openSqliteBackend(join(dir, 'state.db')), cleanup: remove };
  },
});

/** A database path in a temp dir removed after the test. */
function dbPath(t: ExecutionContext, ...subdirs: string[]): string {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  return join(dir, ...subdirs, 'state.db');
}

function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

test('sqlite: a SIGKILLed writer loses no acknowledged write, and revisions go on increasing after reopening', async (t) => {
  const path = dbPath(t);
  const killAfter = 300;
  const child = spawn(process.execPath, [fixture('sqlite-writer.js'), path, '100000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acknowledged: Array<{ key: string; revision: number }> = [];
  let pending = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop()!; // an incomplete last line is not an acknowledgement yet
    for (const line of lines) {
      const [key, revision] = line.split(' ');
      acknowledged.push({ key, revision: Number(revision) });
    }
    if (acknowledged.length >= killAfter) child.kill('SIGKILL');
  });
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (exitCode, signal) => resolve({ code: exitCode, signal })),
  );
  t.is(exit.signal, 'SIGKILL', 'the writer was killed mid-way, not finished');
  t.true(acknowledged.length >= killAfter);
  t.log(`${acknowledged.length} writes acknowledged before the kill`);
  t.log(`${acknowledged.length} writes acknowledged before the kill`);

  const store = await openSqliteBackend(path);
  t.teardown(() => store.close());
  for (const { key, revision } of acknowledged) {
    const kv = await store.get(key);
    if (kv?.modRevision !== revision) {
      t.fail(`${key}: acknowledged at revision ${revision}, found ${kv ? `revision ${kv.modRevision}` : 'nothing'}`);
      return;
    }
  }
  // What is stored is exactly the writer's sequence up to some point at or after the last acknowledgement.
  const stored = (await store.list('/registry/killed/')).items;
  t.true(stored.length >= acknowledged.length);
  // (A plain loop: deepEqual on tens of thousands of items is very slow.)
  const firstUnexpected = stored.findIndex(
    (kv, n) => kv.key !== `/registry/killed/${String(n).padStart(7, '0')}` || kv.value.toString() !== `value-${n}`,
  );
  t.is(firstUnexpected, -1, `stored item ${firstUnexpected} is not the writer's write number ${firstUnexpected}`);
  const lastStored = stored[stored.length - 1].modRevision;
  t.is(await store.currentRevision(), lastStored);
  const next = await store.create('/registry/after-restart', value('x'));
  t.is(next.modRevision, lastStored + 1);
});

test('sqlite: the current revision survives compaction of the newest rows and a reopen', async (t) => {
  const path = dbPath(t);
  let store = await openSqliteBackend(path);
  const a = await store.create('/registry/a', value('1'));
  const b = await store.create('/registry/b', value('1'));
  const b2 = await store.update('/registry/b', value('2'), b.modRevision);
  const aGone = await store.delete('/registry/a');
  t.is(await store.currentRevision(), aGone.modRevision);
  t.is(rowCount(path), 4);

  await store.compact(aGone.modRevision);
  t.is(rowCount(path), 1, "only b's current row is left; a's tombstone (the newest row) is gone");
  t.is(await store.currentRevision(), aGone.modRevision);
  await store.close();

  store = await openSqliteBackend(path);
  t.teardown(() => store.close());
  t.is(await store.currentRevision(), aGone.modRevision);
  t.is(await store.compactedRevision(), aGone.modRevision);
  t.deepEqual((await store.list('/registry/')).items, [b2]);
  t.is(await code(store.get('/registry/b', { revision: a.modRevision })), 'Compacted');
  const c = await store.create('/registry/c', value('1'));
  t.is(c.modRevision, aGone.modRevision + 1, 'no revision is reused');
  const again = await store.create('/registry/a', value('again'));
  t.is(again.createRevision, again.modRevision);
});

test('sqlite: opening a path whose directory is missing creates the directory', async (t) => {
  const path = dbPath(t, 'not', 'there', 'yet');
  const store = await openSqliteBackend(path);
  t.teardown(() => store.close());
  t.true(existsSync(path));
  t.is((await store.create('/registry/a', value('1'))).modRevision, 1);
});

test('sqlite: two processes incrementing one key lose no update, and a watcher in a third sees every revision in order', async (t) => {
  const path = dbPath(t);
  const key = '/registry/shared/counter';
  const perProcess = 100;
  const store = await openSqliteBackend(path);
  t.teardown(() => store.close());
  const initial = await store.create(key, value('0'));
  const watch = collect(store.watch('/registry/shared/', initial.modRevision));

  const runIncrementer = () =>
    new Promise<number[]>((resolve, reject) => {
      const child = spawn(process.execPath, [fixture('sqlite-incrementer.js'), path, key, String(perProcess)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => (output += chunk));
      child.on('error', reject);
      child.on('close', (exitCode) =>
        exitCode === 0 ? resolve(output.trim().split('\n').map(Number)) : reject(new Error(`incrementer exited with ${exitCode}`)),
      );
    });
  const [first, second] = await Promise.all([runIncrementer(), runIncrementer()]);

  const total = 2 * perProcess;
  t.is((await store.get(key))?.value.toString(), String(total), 'no increment lost');
  const revisions = [...first, ...second].sort((x, y) => x - y);
  t.deepEqual(
    revisions,
    Array.from({ length: total }, (_, i) => initial.modRevision + 1 + i),
    'every success got its own revision, with no gap',
  );

  // The watcher learns of the other processes' writes by polling the file.
  const events = await watch.until((all) => all.length >= total);
  t.deepEqual(
    events.map((e) => [e.type, e.kv.modRevision, e.kv.value.toString(), e.prevKv?.modRevision]),
    revisions.map((revision, i) => ['put', revision, String(i + 1), i === 0 ? initial.modRevision : revisions[i - 1]]),
  );
});

function rowCount(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare<[], number>('SELECT COUNT(*) FROM kine').pluck().get()!;
  } finally {
    db.close();
  }
}
