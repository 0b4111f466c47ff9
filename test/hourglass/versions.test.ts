// The blue-green state transitions shared by the promote/rollback verbs and the controller.
import test from 'ava';
import type { PerformerStatus } from '../../registry/hourglass.eigenlayer.io/performer/types.js';
import { applyVersion, NoVersionToSwitch, planRollback, planRollout, readyToSwitch, requestPromotion, switched } from '../../registry/hourglass.eigenlayer.io/performer/versions.js';

const NOW = '2026-11-23T10:00:00Z';
const v1 = { version: 'v1', image: 'img:v1', revision: 'r1' };
const v2 = { version: 'v2', image: 'img:v2', revision: 'r2' };
const v3 = { version: 'v3', image: 'img:v3', revision: 'r3' };

const rollouts: Array<{ title: string; status?: PerformerStatus; desired: typeof v1; want: unknown }> = [
  { title: 'nothing serves yet: initial', desired: v1, want: { kind: 'initial' } },
  { title: 'desired is serving: steady', status: { currentVersion: v1 }, desired: v1, want: { kind: 'steady' } },
  { title: 'spec went back while v2 waited: steady, v2 abandoned', status: { currentVersion: v1, pendingVersion: { ...v2, since: NOW } }, desired: v1, want: { kind: 'steady', abandon: { ...v2, since: NOW } } },
  { title: 'a new version: upgrade with it pending', status: { currentVersion: v1 }, desired: v2, want: { kind: 'upgrade', pending: { ...v2, since: NOW } } },
  {
    title: 'still waiting for the same version: the pending one is kept (with its promote request)',
    status: { currentVersion: v1, pendingVersion: { ...v2, since: 'earlier', promoteRequested: true } },
    desired: v2,
    want: { kind: 'upgrade', pending: { ...v2, since: 'earlier', promoteRequested: true } },
  },
  {
    title: 'the spec moved on while v2 waited: v3 replaces it',
    status: { currentVersion: v1, pendingVersion: { ...v2, since: 'earlier' } },
    desired: v3,
    want: { kind: 'upgrade', pending: { ...v3, since: NOW }, replaces: { ...v2, since: 'earlier' } },
  },
];

for (const c of rollouts) {
  test(`planRollout: ${c.title}`, (t) => {
    t.deepEqual(planRollout(c.status, c.desired, NOW), c.want as never);
  });
}

test('readyToSwitch: SERVING, or a promote request; nothing else', (t) => {
  const pending = { ...v2 };
  t.true(readyToSwitch(pending, 'SERVING'));
  for (const h of ['NOT_SERVING', 'UNKNOWN', 'UNREACHABLE', undefined]) t.false(readyToSwitch(pending, h), String(h));
  t.true(readyToSwitch({ ...pending, promoteRequested: true }, 'NOT_SERVING'));
});

test('switched: the pending version serves, the serving one is kept for rollback', (t) => {
  const next = switched({ phase: 'Upgrading', currentVersion: v1, pendingVersion: { ...v2, podName: 'p', since: NOW, promoteRequested: true } }, NOW);
  t.deepEqual(next, { phase: 'Upgrading', currentVersion: v2, previousVersion: v1, lastUpgrade: NOW });
});

test('requestPromotion: marks the waiting version; none waiting is refused', (t) => {
  t.deepEqual(requestPromotion({ currentVersion: v1, pendingVersion: { ...v2 } }).pendingVersion, { ...v2, promoteRequested: true });
  t.throws(() => requestPromotion({ currentVersion: v1 }), { instanceOf: NoVersionToSwitch });
  t.throws(() => requestPromotion(undefined), { instanceOf: NoVersionToSwitch });
});

const rollbacks: Array<{ title: string; status?: PerformerStatus; want?: unknown }> = [
  { title: 'after a switch: back to the previous version', status: { currentVersion: v2, previousVersion: v1 }, want: { to: v1, abandonsPending: false } },
  { title: 'with an upgrade waiting: back to the serving version', status: { currentVersion: v2, previousVersion: v1, pendingVersion: { ...v3 } }, want: { to: v2, abandonsPending: true } },
  { title: 'no previous version: refused', status: { currentVersion: v1 } },
  { title: 'nothing at all: refused', status: undefined },
];

for (const c of rollbacks) {
  test(`planRollback: ${c.title}`, (t) => {
    const spec = { version: 'v9', image: 'img:v9' };
    if (!c.want) {
      t.throws(() => planRollback(spec, c.status), { instanceOf: NoVersionToSwitch });
      return;
    }
    t.like(planRollback(spec, c.status), { ...(c.want as object), from: spec });
  });
}

test('applyVersion sets image and version, and removes a version the target has not', (t) => {
  t.deepEqual(applyVersion({ avsAddress: 'a', image: 'x', version: 'v9' }, { image: 'y', version: 'v1' }), { avsAddress: 'a', image: 'y', version: 'v1' });
  t.deepEqual(applyVersion({ avsAddress: 'a', image: 'x', version: 'v9' }, { image: 'y' }), { avsAddress: 'a', image: 'y' });
});
