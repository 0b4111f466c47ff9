// Settings resolution: opt-out, PVC annotations, first matching PVCPolicy, PVCGroup template,
// StorageClass annotations, defaults — each value with its source.
import test from 'ava';
import { resolveSettings, type ResolveInput } from '../../controllers/pvcchonker/settings.js';
import { claim, GiB, group, policy, storageClass } from './fixtures.js';

const base = (over: Partial<ResolveInput>): ResolveInput => ({ claim: claim('c'), policies: [], groups: [], storageClass: storageClass(), defaultEnabled: false, ...over });

test('resolution order and the source of each setting', (t) => {
  const cases: Array<{ name: string; input: ResolveInput; managed: boolean; managedBy: string; threshold?: [number, string]; increase?: [unknown, string]; maxSize?: [number, string] | undefined; cooldown?: [number, string] }> = [
    { name: 'nothing selects it: unmanaged, defaults', input: base({}), managed: false, managedBy: 'not-selected', threshold: [80, 'default'], increase: [{ percent: 10 }, 'default'], cooldown: [15 * 60_000, 'default'] },
    { name: '--pvc-default-enabled manages it', input: base({ defaultEnabled: true }), managed: true, managedBy: 'default' },
    {
      name: 'enabled=false opts out over everything',
      input: base({ claim: claim('c', { annotations: { 'pvc-chonker.io/enabled': 'false' }, labels: { app: 'db' } }), policies: [policy('p', { matchLabels: { app: 'db' } }, { enabled: true })], defaultEnabled: true }),
      managed: false,
      managedBy: 'opt-out',
    },
    {
      name: 'annotation beats policy beats group beats storageclass',
      input: base({
        claim: claim('c', { labels: { app: 'db' }, annotations: { 'pvc-chonker.io/enabled': 'true', 'pvc-chonker.io/threshold': '70%', 'pvc-chonker.io/group': 'g' } }),
        policies: [policy('p', { matchLabels: { app: 'db' } }, { increase: '5Gi', threshold: '90%' })],
        groups: [group('g', { maxSize: '100Gi', increase: '50%', cooldown: '1h' })],
        storageClass: storageClass('expandable', { annotations: { 'pvc-chonker.io/cooldown': '5m', 'pvc-chonker.io/max-size': '1Ti' } }),
      }),
      managed: true,
      managedBy: 'annotation',
      threshold: [70, 'annotation'],
      increase: [{ bytes: 5 * GiB }, 'policy'],
      maxSize: [100 * GiB, 'group'],
      cooldown: [60 * 60_000, 'group'],
    },
    {
      name: 'StorageClass annotations are a layer (and can enable management)',
      input: base({ storageClass: storageClass('expandable', { annotations: { 'pvc-chonker.io/enabled': 'true', 'pvc-chonker.io/threshold': '60', 'pvc-chonker.io/max-size': '20Gi' } }) }),
      managed: true,
      managedBy: 'storageclass',
      threshold: [60, 'storageclass'],
      maxSize: [20 * GiB, 'storageclass'],
    },
    {
      name: 'first matching policy by name',
      input: base({ claim: claim('c', { labels: { app: 'db' } }), policies: [policy('z', { matchLabels: { app: 'db' } }, { threshold: '95%' }), policy('a', { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] }, { threshold: '85%' }), policy('b', { matchLabels: { app: 'web' } }, { threshold: '50%' })] }),
      managed: true,
      managedBy: 'policy',
      threshold: [85, 'policy'],
    },
    {
      name: 'a policy in another namespace does not apply',
      input: base({ claim: claim('c', { labels: { app: 'db' } }), policies: [policy('p', { matchLabels: { app: 'db' } }, { threshold: '95%' }, 'other')] }),
      managed: false,
      managedBy: 'not-selected',
      threshold: [80, 'default'],
    },
    {
      name: 'a group takes members by selector',
      input: base({ claim: claim('data-web-0', { labels: { app: 'web' } }), groups: [group('web', { threshold: '75%' }, { matchLabels: { app: 'web' } })] }),
      managed: true,
      managedBy: 'group',
      threshold: [75, 'group'],
    },
  ];
  for (const c of cases) {
    const r = resolveSettings(c.input);
    t.deepEqual(r.errors, [], c.name);
    t.is(r.managed, c.managed, c.name);
    t.is(r.managedBy as string, c.managedBy, c.name);
    if (c.threshold) t.deepEqual([r.settings.threshold.value, r.settings.threshold.source], c.threshold, c.name);
    if (c.increase) t.deepEqual([r.settings.increase.value, r.settings.increase.source], c.increase, c.name);
    if ('maxSize' in c) t.deepEqual(r.settings.maxSize && [r.settings.maxSize.value, r.settings.maxSize.source], c.maxSize, c.name);
    if (c.cooldown) t.deepEqual([r.settings.cooldownMs.value, r.settings.cooldownMs.source], c.cooldown, c.name);
  }
});

test('invalid annotation values are errors, never guessed', (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ 'pvc-chonker.io/threshold': 'lots' }, /threshold: "lots"/],
    [{ 'pvc-chonker.io/threshold': '150%' }, /threshold: "150%"/],
    [{ 'pvc-chonker.io/increase': '-5Gi' }, /increase: "-5Gi"/],
    [{ 'pvc-chonker.io/max-size': 'big' }, /maxSize: "big"/],
    [{ 'pvc-chonker.io/cooldown': '15 minutes' }, /cooldown: "15 minutes"/],
    [{ 'pvc-chonker.io/enabled': 'yes' }, /enabled: "yes"/],
  ];
  for (const [annotations, message] of cases) {
    const r = resolveSettings(base({ claim: claim('c', { annotations: { 'pvc-chonker.io/enabled': 'true', ...annotations } }) }));
    t.is(r.errors.length, 1, JSON.stringify(annotations));
    t.regex(r.errors[0], message);
  }
});
