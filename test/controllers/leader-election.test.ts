// Leader election over the storage lease, with a fake clock: acquisition, renewal, expiry after a
// leader stops renewing, hand-over on release, and a hung store.
import test from 'ava';
import { FakeClock } from '../../controllers/clock.js';
import { LeaderElector, StorageLeaseLock, type LeaderElectionRecord, type LeaseLock } from '../../controllers/leader-election.js';
import { openBackend, type Backend } from '../../registry/storage/index.js';

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Moves the fake clock in small steps, letting the electors' promises run between them. */
async function advance(clock: FakeClock, ms: number, stepMs = 100): Promise<void> {
  for (let done = 0; done < ms; done += stepMs) {
    clock.step(Math.min(stepMs, ms - done));
    for (let i = 0; i < 5; i++) await settle();
  }
}

/** A lock whose calls can be made to fail (a partitioned leader) or to hang (a hung store). */
class ControllableLock implements LeaseLock {
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  constructor(private readonly inner: LeaseLock) {}
  get description() {
    return this.inner.description;
  }
  private gate<T>(call: () => Promise<T>): Promise<T> {
    if (this.mode === 'fail') return Promise.reject(new Error('partitioned'));
    if (this.mode === 'hang') return new Promise<T>(() => {});
    return call();
  }
  get() {
    return this.gate(() => this.inner.get());
  }
  create(record: LeaderElectionRecord) {
    return this.gate(() => this.inner.create(record));
  }
  update(record: LeaderElectionRecord, version: string) {
    return this.gate(() => this.inner.update(record, version));
  }
}

interface Candidate {
  id: string;
  lock: ControllableLock;
  elector: LeaderElector;
}

async function setup(t: { teardown(fn: () => unknown): void }) {
  const backend: Backend = await openBackend({ url: 'memory' });
  const clock = new FakeClock();
  const log: string[] = [];
  const make = (id: string): Candidate => {
    const lock = new ControllableLock(new StorageLeaseLock(backend, 'controllers'));
    const elector = new LeaderElector({
      lock,
      identity: id,
      clock,
      onStartedLeading: () => log.push(`${clock.now()} ${id} started`),
      onStoppedLeading: () => {
        log.push(`${clock.now()} ${id} stopped`);
      },
    });
    return { id, lock, elector };
  };
  const a = make('a');
  const b = make('b');
  t.teardown(async () => {
    for (const c of [a, b]) c.lock.mode = 'ok';
    const stopping = Promise.all([a.elector.stop(), b.elector.stop()]);
    await advance(clock, 1000);
    await stopping;
    await backend.close();
  });
  const record = async () => (await new StorageLeaseLock(backend, 'controllers').get())?.record;
  return { clock, a, b, log, record, start: clock.now() };
}

test('the first candidate leads and keeps the lease while it renews; the second never leads meanwhile', async (t) => {
  const { clock, a, b, log, record } = await setup(t);
  a.elector.start();
  await advance(clock, 100);
  b.elector.start();
  await advance(clock, 60_000);
  t.true(a.elector.isLeader);
  t.false(b.elector.isLeader);
  t.is(log.length, 1);
  t.regex(log[0], / a started$/);
  const r = await record();
  t.is(r?.holderIdentity, 'a');
  t.is(r?.leaseDurationSeconds, 15);
  t.is(r?.leaseTransitions, 0);
  t.true(clock.now() - r!.renewTime <= 2_000, 'renewed every retry period (2 s)');
});

test('a leader that cannot renew stops leading by the renew deadline; the other takes over only after the lease duration', async (t) => {
  const { clock, a, b, log, record } = await setup(t);
  a.elector.start();
  await advance(clock, 100);
  b.elector.start();
  await advance(clock, 5_000);
  const lastRenew = (await record())!.renewTime;
  a.lock.mode = 'fail';
  await advance(clock, 30_000);
  t.false(a.elector.isLeader);
  t.true(b.elector.isLeader);
  const stoppedA = Number(log.find((l) => l.endsWith('a stopped'))!.split(' ')[0]);
  const startedB = Number(log.find((l) => l.endsWith('b started'))!.split(' ')[0]);
  t.true(stoppedA <= lastRenew + 10_000 + 2_000, 'a gave up within the renew deadline (plus one retry period)');
  t.true(startedB >= lastRenew + 15_000, 'b waited for the lease duration after the last renewal it saw');
  t.true(stoppedA < startedB, 'never two leaders');
  const r = await record();
  t.is(r?.holderIdentity, 'b');
  t.is(r?.leaseTransitions, 1);
});

test('a leader whose store hangs stops leading by the renew deadline', async (t) => {
  const { clock, a, log } = await setup(t);
  a.elector.start();
  await advance(clock, 4_000);
  t.true(a.elector.isLeader);
  a.lock.mode = 'hang';
  await advance(clock, 13_000);
  t.false(a.elector.isLeader);
  t.regex(log[log.length - 1], / a stopped$/);
});

test('stop() releases the lease, so the other candidate takes over at its next retry', async (t) => {
  const { clock, a, b, log, record } = await setup(t);
  a.elector.start();
  await advance(clock, 100);
  b.elector.start();
  await advance(clock, 5_000);
  const stopping = a.elector.stop();
  await advance(clock, 100);
  await stopping;
  const released = clock.now();
  await advance(clock, 2_500);
  t.true(b.elector.isLeader);
  const startedB = Number(log.find((l) => l.endsWith('b started'))!.split(' ')[0]);
  t.true(startedB - released <= 2_100, 'no wait for the lease duration after a release');
  t.is((await record())?.holderIdentity, 'b');
});

test('a candidate that was leader and comes back after losing the lease competes again', async (t) => {
  const { clock, a, b, log } = await setup(t);
  a.elector.start();
  await advance(clock, 100);
  b.elector.start();
  await advance(clock, 3_000);
  a.lock.mode = 'fail';
  await advance(clock, 30_000);
  t.true(b.elector.isLeader);
  a.lock.mode = 'ok';
  b.lock.mode = 'fail';
  await advance(clock, 40_000);
  t.true(a.elector.isLeader);
  t.false(b.elector.isLeader);
  t.deepEqual(
    log.map((l) => l.split(' ').slice(1).join(' ')),
    ['a started', 'a stopped', 'b started', 'b stopped', 'a started'],
  );
});
