import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { completeOptions, parseDurationMs } from '../../apiserver/options.js';
import { startCompactor } from '../../registry/storage/compactor.js';
import { openBackend } from '../../registry/storage/index.js';

test('the compactor compacts up to the revision seen one interval earlier', async (t) => {
  const backend = await openBackend({ url: 'memory' });
  t.teardown(() => backend.close());
  const first = await backend.create('/registry/x/a', Buffer.from('1'));
  const stop = startCompactor(backend, { intervalMs: 200 });
  t.teardown(stop);
  await sleep(50); // the first tick only records the current revision
  t.is(await backend.compactedRevision(), 0);
  const second = await backend.update('/registry/x/a', Buffer.from('2'), first.modRevision);
  for (let i = 0; i < 50 && (await backend.compactedRevision()) < first.modRevision; i++) await sleep(50);
  t.is(await backend.compactedRevision(), first.modRevision, 'compacted to the revision recorded at the first tick');
  t.is((await backend.get('/registry/x/a'))?.modRevision, second.modRevision, 'current values stay readable');
});

test('--etcd-compaction-interval takes Go-style durations and 0, and rejects anything else', (t) => {
  const cases: Array<[string, number | undefined]> = [
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['30s', 30_000],
    ['250ms', 250],
    ['0', 0],
    ['5', undefined],
    ['5 m', undefined],
    ['m', undefined],
  ];
  for (const [text, want] of cases) t.is(parseDurationMs(text), want, text);
  t.is(completeOptions({}).compactionIntervalMs, 300_000);
  t.throws(() => completeOptions({ 'etcd-compaction-interval': 'soon' }), { message: /expected a duration/ });
});
