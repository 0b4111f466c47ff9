// SIGKILL of the server (embedded SQLite) in the middle of 200 concurrent writers, then a restart
// on the same data: every write that was answered 2xx is there with the resourceVersion it was
// answered with, and nothing that got an error or no answer is half-written (each stored object
// is exactly one of the versions a writer sent, never a mix).
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, policy, POLICIES, startServerProcess, until, type ServerProcess } from './helpers.js';

const WRITERS = 200;
const NAMESPACE = 'crash';
/** SIGKILL once this many writes have been acknowledged (all writers are still writing then). */
const KILL_AFTER_ACKS = 1_000;

interface Version {
  counter: number;
  /** resourceVersion of the 2xx answer; undefined when the write got an error or no answer. */
  rv?: string;
}

interface WriterLog {
  name: string;
  /** Writes answered 2xx, in order. */
  acked: Version[];
  /** Writes sent that got an error or no answer (at most the last one is possibly applied). */
  unanswered: Version[];
}

/** The counter is written into a label, an annotation and the spec, so a torn write shows. */
function versioned(name: string, counter: number, rv?: string): Record<string, any> {
  const obj = policy(name, { counter: String(counter) }, { counter: String(counter) }) as any;
  obj.spec = { ...obj.spec, template: { ...obj.spec.template, cooldown: `${counter + 1}m` } };
  if (rv) obj.metadata.resourceVersion = rv;
  return obj;
}

function counterOf(obj: any): number {
  const fromLabel = Number(obj.metadata.labels?.counter);
  const fromAnnotation = Number(obj.metadata.annotations?.counter);
  const fromSpec = Number(String(obj.spec?.template?.cooldown).replace(/m$/, '')) - 1;
  if (!(fromLabel === fromAnnotation && fromLabel === fromSpec)) return NaN;
  return fromLabel;
}

let dir: string;
let server: ServerProcess | undefined;
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'reliability-sigkill-'));
});
test.after.always(async () => {
  if (server && server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<ServerProcess> {
  const started = await startServerProcess(join(dir, 'certs'), [`--storage=sqlite://${join(dir, 'state.db')}`, '--etcd-compaction-interval=0']);
  const probe = new Client(started.endpoint, { maxSockets: 1 });
  try {
    await until(async () => (await probe.request('GET', '/readyz')).status === 200, 'readyz after start');
  } finally {
    probe.close();
  }
  return started;
}

test('SIGKILL during 200 concurrent writers (sqlite): every 2xx write survives with its resourceVersion, nothing is half-written', async (t) => {
  t.timeout(180_000);
  server = await start();
  const client = new Client(server.endpoint, { maxSockets: WRITERS });
  const logs: WriterLog[] = Array.from({ length: WRITERS }, (_, i) => ({ name: `w-${i}`, acked: [], unanswered: [] }));
  let acks = 0;
  let killed = false;
  let killSent: () => void;
  const killRequested = new Promise<void>((resolve) => (killSent = resolve));

  const writer = async (log: WriterLog) => {
    let rv: string | undefined;
    for (let counter = 0; !killed; counter++) {
      const body = versioned(log.name, counter, rv);
      const version: Version = { counter };
      try {
        const res = rv === undefined
          ? await client.request('POST', POLICIES(NAMESPACE), { body, timeoutMs: 30_000 })
          : await client.request('PUT', `${POLICIES(NAMESPACE)}/${log.name}`, { body, timeoutMs: 30_000 });
        if (res.status >= 200 && res.status < 300) {
          rv = res.json.metadata.resourceVersion;
          version.rv = rv;
          log.acked.push(version);
          if (++acks === KILL_AFTER_ACKS) killSent();
          continue;
        }
        log.unanswered.push(version);
        if (!killed) throw new Error(`${log.name} write ${counter} failed before the kill: ${res.status} ${res.body}`);
      } catch (err) {
        log.unanswered.push(version);
        if (!killed) throw err;
      }
      return;
    }
  };
  const writers = Promise.allSettled(logs.map(writer));
  await killRequested;
  killed = true;
  server.child.kill('SIGKILL');
  await server.exited;
  const results = await writers;
  client.close();
  const beforeKill = results.filter((r) => r.status === 'rejected');
  t.deepEqual(beforeKill.map((r) => String((r as PromiseRejectedResult).reason)).slice(0, 3), [], 'no write failed before the kill');
  const inFlight = logs.filter((l) => l.unanswered.length > 0).length;
  t.log(`acknowledged writes before SIGKILL: ${logs.reduce((n, l) => n + l.acked.length, 0)}; writes in flight at the kill: ${inFlight}`);

  server = await start();
  const reader = new Client(server.endpoint, { maxSockets: 8 });
  try {
    const list = await reader.request('GET', POLICIES(NAMESPACE));
    t.is(list.status, 200);
    const stored = new Map<string, any>(list.json.items.map((o: any) => [o.metadata.name, o]));
    let lostAcked = 0;
    let appliedUnanswered = 0;
    for (const log of logs) {
      const obj = stored.get(log.name);
      const lastAcked = log.acked.at(-1);
      if (!obj) {
        // Absent only if its create was never acknowledged.
        if (lastAcked) lostAcked++;
        t.is(lastAcked, undefined, `${log.name}: acknowledged writes are missing after restart`);
        continue;
      }
      const counter = counterOf(obj);
      t.false(Number.isNaN(counter), `${log.name}: stored object mixes two versions: ${JSON.stringify(obj.metadata)}`);
      if (lastAcked && counter === lastAcked.counter) {
        t.is(obj.metadata.resourceVersion, lastAcked.rv, `${log.name}: acknowledged version ${counter} has another resourceVersion`);
        continue;
      }
      // Otherwise it must be the one write that was in flight when the server died, after the last ack.
      const pending = log.unanswered.find((v) => v.counter === counter);
      if (pending && (!lastAcked || counter > lastAcked.counter)) {
        appliedUnanswered++;
        if (lastAcked) t.true(Number(obj.metadata.resourceVersion) > Number(lastAcked.rv), `${log.name}: in-flight write not newer than the last acked one`);
        continue;
      }
      lostAcked++;
      t.fail(`${log.name}: stored version ${counter} is neither the last acknowledged (${lastAcked?.counter}) nor the in-flight one`);
    }
    t.is(stored.size, logs.filter((l) => stored.has(l.name)).length, 'no object that no writer wrote');
    t.log(`objects after restart: ${stored.size}; acknowledged writes lost: ${lostAcked}; in-flight writes that were applied (answer lost): ${appliedUnanswered}`);
    // The restarted server accepts writes on top of the recovered state.
    const one = stored.values().next().value;
    if (one) {
      const res = await reader.request('PUT', `${POLICIES(NAMESPACE)}/${one.metadata.name}`, { body: versioned(one.metadata.name, counterOf(one) + 1, one.metadata.resourceVersion) });
      t.is(res.status, 200, res.body);
    }
  } finally {
    reader.close();
  }
});
