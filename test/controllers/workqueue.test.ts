// The work queue and its rate limiters, with an injected fake clock (nothing sleeps).
import test from 'ava';
import { FakeClock } from '../../controllers/clock.js';
import { BucketRateLimiter, defaultControllerRateLimiter, ItemExponentialRateLimiter } from '../../controllers/rate-limiter.js';
import { WorkQueue } from '../../controllers/workqueue.js';

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function queueWithClock() {
  const clock = new FakeClock();
  const counts = { added: 0, retried: 0, depth: 0 };
  const queue = new WorkQueue({
    clock,
    rateLimiter: defaultControllerRateLimiter(clock),
    metrics: { added: () => counts.added++, retried: () => counts.retried++, depth: (n) => (counts.depth = n) },
  });
  return { clock, queue, counts };
}

test('a key added twice while queued is handed out once', async (t) => {
  const { queue, counts } = queueWithClock();
  queue.add('ns/a');
  queue.add('ns/b');
  queue.add('ns/a');
  t.is(queue.length, 2);
  t.is(counts.added, 2);
  t.is(await queue.get(), 'ns/a');
  t.is(await queue.get(), 'ns/b');
  t.is(queue.length, 0);
});

test('a key re-added while processing is deferred until done, and never handed to a second worker', async (t) => {
  const { queue } = queueWithClock();
  queue.add('ns/a');
  const first = await queue.get();
  t.is(first, 'ns/a');
  queue.add('ns/a');
  queue.add('ns/a');
  t.is(queue.length, 0, 'not queued while processing');
  const second: { key?: string } = {};
  void queue.get().then((k) => (second.key = k));
  await settle();
  t.is(second.key, undefined, 'a second worker waits instead of getting the key being processed');
  queue.done('ns/a');
  await settle();
  t.is(second.key, 'ns/a', 'handed out again after done, once');
  t.true(queue.isProcessing('ns/a'));
  t.is(queue.length, 0);
});

test('workers are never given the same key concurrently (many workers, many adds)', async (t) => {
  const { queue } = queueWithClock();
  const active = new Set<string>();
  let overlaps = 0;
  let processed = 0;
  const worker = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      if (active.has(key)) overlaps++;
      active.add(key);
      await settle();
      if (processed++ < 200) queue.add(key); // re-add while processing
      active.delete(key);
      queue.done(key);
    }
  };
  for (const k of ['a', 'b', 'c']) queue.add(k);
  const workers = [worker(), worker(), worker(), worker()];
  while (processed < 200) await settle();
  await queue.shutDownWithDrain();
  await Promise.all(workers);
  t.is(overlaps, 0);
  t.true(processed >= 200);
});

test('backoff per key: 5 ms, 10 ms, 20 ms, … capped at 1000 s; forget resets it', (t) => {
  const limiter = new ItemExponentialRateLimiter(5, 1_000_000);
  const seen = Array.from({ length: 6 }, () => limiter.when('k'));
  t.deepEqual(seen, [5, 10, 20, 40, 80, 160]);
  t.is(limiter.numRequeues('k'), 6);
  t.is(limiter.when('other'), 5, 'per item');
  for (let i = 0; i < 40; i++) limiter.when('k');
  t.is(limiter.when('k'), 1_000_000, 'capped at 1000 s');
  limiter.forget('k');
  t.is(limiter.numRequeues('k'), 0);
  t.is(limiter.when('k'), 5);
});

test('the token bucket allows a burst of 100, then 10 per second', (t) => {
  const clock = new FakeClock();
  const bucket = new BucketRateLimiter(10, 100, clock);
  const delays = Array.from({ length: 100 }, () => bucket.when());
  t.true(delays.every((d) => d === 0));
  t.is(bucket.when(), 100, 'the 101st waits for one token at 10 qps');
  t.is(bucket.when(), 200);
  clock.step(1000);
  t.is(bucket.when(), 0, 'a second later ten tokens are back: the debt of two is repaid and eight remain');
});

test('addRateLimited waits for the backoff with the fake clock; requeue timing follows 5, 10, 20 ms', async (t) => {
  const { clock, queue, counts } = queueWithClock();
  const readyAfter: number[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const start = clock.now();
    queue.addRateLimited('ns/a');
    t.is(queue.length, 0, 'not queued before its backoff');
    while (queue.length === 0) clock.step(1);
    readyAfter.push(clock.now() - start);
    const key = await queue.get();
    queue.done(key!);
  }
  t.deepEqual(readyAfter, [5, 10, 20]);
  t.is(counts.retried, 3);
  t.is(queue.numRequeues('ns/a'), 3);
  queue.forget('ns/a');
  t.is(queue.numRequeues('ns/a'), 0);
});

test('addAfter (requeueAfter) keeps the earliest pending time and dedups with a direct add', async (t) => {
  const { clock, queue } = queueWithClock();
  queue.addAfter('ns/a', 1000);
  queue.addAfter('ns/a', 300);
  queue.addAfter('ns/a', 5000);
  clock.step(299);
  t.is(queue.length, 0);
  clock.step(1);
  t.is(queue.length, 1, 'due at the earliest time asked for');
  clock.step(10_000);
  t.is(queue.length, 1, 'only once');
  queue.add('ns/a');
  t.is(queue.length, 1, 'a direct add of a queued key is a no-op');
});

test('shutdown drains: queued keys are still handed out, then get() resolves undefined; adds are ignored', async (t) => {
  const { clock, queue } = queueWithClock();
  queue.add('a');
  queue.add('b');
  queue.addAfter('c', 50);
  const processing = await queue.get();
  const drained = queue.shutDownWithDrain();
  let isDrained = false;
  void drained.then(() => (isDrained = true));
  queue.add('d');
  clock.step(100);
  t.is(queue.length, 1, 'delayed and new adds are dropped; b is still queued');
  t.is(await queue.get(), 'b');
  queue.done('b');
  await settle();
  t.false(isDrained, 'a is still being processed');
  queue.done(processing!);
  await drained;
  t.true(isDrained);
  t.is(await queue.get(), undefined);
});

test('a worker waiting in get() is released by shutdown', async (t) => {
  const { queue } = queueWithClock();
  const waiting = queue.get();
  queue.shutDown();
  t.is(await waiting, undefined);
});
