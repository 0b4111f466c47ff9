// Strategic merge patch and server-side apply over HTTP, for every kind on every backend: list
// merges by key and as sets, directives, managedFields on every write path, apply's create,
// conflicts, force and removal of fields a manager stops applying.
import { stringify } from 'yaml';
import { patchMetaOf } from '../../../registry/patch/meta.js';
import { expectOk, expectStatus } from '../client.js';
import type { Ctx, KindCase } from '../harness.js';
import { mergePatchOf } from '../objects.js';

const SMP = { 'Content-Type': 'application/strategic-merge-patch+json' };
const APPLY = { 'Content-Type': 'application/apply-patch+yaml' };

interface Entry {
  manager: string;
  operation: string;
  subresource?: string;
  fieldsType: string;
  time: string;
  apiVersion: string;
  fieldsV1: Record<string, any>;
}

/** `manager/operation[/subresource]` of every managedFields entry. */
function managers(obj: any): string[] {
  return ((obj.metadata.managedFields ?? []) as Entry[]).map((e) => [e.manager, e.operation, e.subresource].filter(Boolean).join('/')).sort();
}

function entryOf(obj: any, manager: string, operation: string): Entry | undefined {
  return ((obj.metadata.managedFields ?? []) as Entry[]).find((e) => e.manager === manager && e.operation === operation);
}

function smp(ctx: Ctx, name: string, patch: unknown, subresource = '') {
  return ctx.raw('PATCH', ctx.item(name) + subresource, { body: JSON.stringify(patch), headers: SMP });
}

function apply(ctx: Ctx, name: string, config: unknown, query: Record<string, string | boolean> = {}, subresource = '') {
  return ctx.raw('PATCH', ctx.item(name) + subresource, { body: stringify(config), headers: APPLY, query });
}

const hasConditionsByType = (ctx: Ctx) => patchMetaOf(ctx.kind.decl).field('status').field('conditions').listType === 'map';

export const cases: KindCase[] = [
  {
    name: 'strategic merge patch merges maps, set lists and conditions by type; directives delete',
    async run(t, ctx) {
      const created = await ctx.createSample(t, 'smp');
      const labelled = expectOk(t, await smp(ctx, 'smp', { metadata: { labels: { tier: 'gold' }, finalizers: ['example.com/a'] }, ...mergePatchOf(ctx.fixture.specChange) }), 200, 'smp');
      t.is(labelled.metadata.labels.tier, 'gold');
      t.is(labelled.metadata.labels['conformance.test/id'], ctx.id, 'labels merge');
      t.is(labelled.metadata.generation, created.metadata.generation + 1);
      const finalizers = expectOk(t, await smp(ctx, 'smp', { metadata: { finalizers: ['example.com/b'] } }), 200, 'smp finalizers');
      // Without $setElementOrder, apimachinery puts the patch's new items before the server's.
      t.deepEqual(finalizers.metadata.finalizers, ['example.com/b', 'example.com/a'], 'finalizers merge as a set');
      const ordered = expectOk(t, await smp(ctx, 'smp', { metadata: { '$setElementOrder/finalizers': ['example.com/a', 'example.com/b'] } }), 200, 'smp order');
      t.deepEqual(ordered.metadata.finalizers, ['example.com/a', 'example.com/b'], '$setElementOrder reorders');
      const removed = expectOk(
        t,
        await smp(ctx, 'smp', { metadata: { labels: { tier: null }, '$deleteFromPrimitiveList/finalizers': ['example.com/a', 'example.com/b'] } }),
        200,
        'smp directives',
      );
      t.is(removed.metadata.labels.tier, undefined, 'null deletes');
      t.deepEqual(removed.metadata.finalizers ?? [], []);

      if (hasConditionsByType(ctx)) {
        await smp(ctx, 'smp', { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'Starting' }] } }, '/status');
        await smp(ctx, 'smp', { status: { conditions: [{ type: 'Synced', status: 'True' }] } }, '/status');
        const both = expectOk(t, await smp(ctx, 'smp', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, '/status'), 200, 'status smp');
        t.deepEqual(
          both.status.conditions.map((c: any) => [c.type, c.status, c.reason]),
          // Synced (new in the second patch) went first; the third patch keeps the server's order.
          [
            ['Synced', 'True', undefined],
            ['Ready', 'True', 'Starting'],
          ],
          'conditions merge by type',
        );
        const deleted = expectOk(t, await smp(ctx, 'smp', { status: { conditions: [{ type: 'Ready', $patch: 'delete' }] } }, '/status'), 200, 'status smp delete');
        t.deepEqual(deleted.status.conditions.map((c: any) => c.type), ['Synced']);
      }
      const bad = await smp(ctx, 'smp', { metadata: { $patch: 'frobnicate' } });
      expectStatus(t, bad, 400, 'BadRequest', 'unknown $patch');
      const notFound = await smp(ctx, 'nope', { metadata: { labels: { a: 'b' } } });
      expectStatus(t, notFound, 404, 'NotFound', 'smp of a missing object');
    },
  },
  {
    name: 'server-side apply creates, shares, conflicts (409 per field), forces and removes what is no longer applied',
    async run(t, ctx) {
      const config = ctx.sample('ssa', { labels: { owner: 'one', extra: 'yes' } });
      const missingManager = await apply(ctx, 'ssa', config);
      const status = expectStatus(t, missingManager, 422, 'Invalid', 'apply without fieldManager');
      t.is(status.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');

      const dry = await apply(ctx, 'ssa', config, { fieldManager: 'one', dryRun: 'All' });
      expectOk(t, dry, 201, 'dry-run apply');
      expectStatus(t, await ctx.raw('GET', ctx.item('ssa')), 404, 'NotFound', 'a dry-run apply creates nothing');

      const created = expectOk(t, await apply(ctx, 'ssa', config, { fieldManager: 'one' }), 201, 'create on apply');
      t.deepEqual(managers(created), ['one/Apply']);
      const entry = entryOf(created, 'one', 'Apply')!;
      t.is(entry.fieldsType, 'FieldsV1');
      t.is(entry.apiVersion, ctx.kind.apiVersion);
      t.regex(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      t.deepEqual(entry.fieldsV1['f:metadata']['f:labels'], { '.': {}, 'f:conformance.test/id': {}, 'f:extra': {}, 'f:owner': {} });

      const again = expectOk(t, await apply(ctx, 'ssa', config, { fieldManager: 'one' }), 200, 'apply again');
      t.is(again.metadata.resourceVersion, created.metadata.resourceVersion, 'an identical apply writes nothing');

      const shared = expectOk(t, await apply(ctx, 'ssa', { apiVersion: config.apiVersion, kind: config.kind, metadata: { name: 'ssa', labels: { owner: 'one' } } }, { fieldManager: 'two' }), 200, 'apply same value');
      t.deepEqual(managers(shared), ['one/Apply', 'two/Apply'], 'agreeing values are co-owned');

      const takeover = { apiVersion: config.apiVersion, kind: config.kind, metadata: { name: 'ssa', labels: { owner: 'two' } } };
      const conflict = await apply(ctx, 'ssa', takeover, { fieldManager: 'two' });
      const c = expectStatus(t, conflict, 409, 'Conflict', 'conflicting apply');
      t.is(c.message, 'Apply failed with 1 conflict: conflict with "one": .metadata.labels.owner');
      t.deepEqual(c.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "one"', field: '.metadata.labels.owner' }]);
      t.is((await ctx.get(t, 'ssa')).metadata.labels.owner, 'one', 'a conflicting apply changes nothing');

      const forced = expectOk(t, await apply(ctx, 'ssa', takeover, { fieldManager: 'two', force: true }), 200, 'forced apply');
      t.is(forced.metadata.labels.owner, 'two');
      t.falsy(entryOf(forced, 'one', 'Apply')!.fieldsV1['f:metadata']['f:labels']['f:owner'], 'force took the field from "one"');

      const { extra: _extra, owner: _owner, ...keptLabels } = config.metadata.labels;
      const shrunk = expectOk(t, await apply(ctx, 'ssa', { ...config, metadata: { ...config.metadata, labels: keptLabels } }, { fieldManager: 'one' }), 200, 'apply without a label');
      t.is(shrunk.metadata.labels.extra, undefined, 'a field the manager stopped applying is removed');
      t.is(shrunk.metadata.labels.owner, 'two', 'a field another manager owns stays');

      const forceOnMerge = await ctx.raw('PATCH', ctx.item('ssa'), { body: '{}', headers: { 'Content-Type': 'application/merge-patch+json' }, query: { force: true } });
      expectStatus(t, forceOnMerge, 422, 'Invalid', 'force on a merge patch');

      const statusApplied = expectOk(
        t,
        await apply(ctx, 'ssa', { apiVersion: config.apiVersion, kind: config.kind, metadata: { name: 'ssa' }, status: ctx.fixture.status }, { fieldManager: 'ctrl' }, '/status'),
        200,
        'apply to /status',
      );
      t.true(managers(statusApplied).includes('ctrl/Apply/status'));
      t.deepEqual(Object.keys(entryOf(statusApplied, 'ctrl', 'Apply')!.fieldsV1), ['f:status'], 'a status apply owns only status');
      expectStatus(t, await apply(ctx, 'gone', config, { fieldManager: 'ctrl' }, '/status'), 404, 'NotFound', 'apply to the status of a missing object');
    },
  },
  {
    name: 'every write path records managedFields; [{}] resets them',
    async run(t, ctx) {
      const created = await ctx.create(t, ctx.sample('mf'), { fieldManager: 'creator' });
      t.deepEqual(managers(created), ['creator/Update']);
      const body = structuredClone(created);
      body.metadata.labels.put = 'yes';
      const put = expectOk(t, await ctx.raw('PUT', ctx.item('mf'), { body, query: { fieldManager: 'updater' } }), 200, 'put');
      t.deepEqual(managers(put), ['creator/Update', 'updater/Update']);
      t.deepEqual(entryOf(put, 'updater', 'Update')!.fieldsV1, { 'f:metadata': { 'f:labels': { 'f:put': {} } } });
      const patched = expectOk(
        t,
        await ctx.raw('PATCH', ctx.item('mf'), { body: JSON.stringify({ metadata: { labels: { ua: 'yes' } } }), headers: { 'Content-Type': 'application/merge-patch+json', 'User-Agent': 'my-agent/1.2 (linux)' } }),
        200,
        'merge patch',
      );
      t.true(managers(patched).includes('my-agent/Update'), 'the manager defaults to the User-Agent product');
      const statused = expectOk(
        t,
        await ctx.raw('PATCH', `${ctx.item('mf')}/status`, { body: JSON.stringify({ status: ctx.fixture.status }), headers: { 'Content-Type': 'application/merge-patch+json' }, query: { fieldManager: 'ctrl' } }),
        200,
        'status patch',
      );
      t.true(managers(statused).includes('ctrl/Update/status'), 'status writes are tracked separately');
      t.deepEqual(Object.keys(entryOf(statused, 'ctrl', 'Update')!.fieldsV1), ['f:status']);
      if (ctx.kind.scale) {
        const scaled = await ctx.raw('PATCH', `${ctx.item('mf')}/scale`, { body: JSON.stringify({ spec: { replicas: 2 } }), headers: SMP, query: { fieldManager: 'scaler' } });
        expectOk(t, scaled, 200, 'strategic patch of /scale');
        t.true(managers(await ctx.get(t, 'mf')).includes('scaler/Update/scale'));
        const scaleApply = (query: Record<string, string | boolean>) =>
          ctx.raw('PATCH', `${ctx.item('mf')}/scale`, { body: stringify({ apiVersion: 'autoscaling/v1', kind: 'Scale', spec: { replicas: 4 } }), headers: APPLY, query });
        const conflict = expectStatus(t, await scaleApply({ fieldManager: 'hpa' }), 409, 'Conflict', 'apply to /scale');
        t.regex(conflict.message ?? '', /^Apply failed with 1 conflict: conflict with "scaler" with subresource "scale" using \S+ at \S+: \.spec\.\S*replicas$/);
        const forced = expectOk(t, await scaleApply({ fieldManager: 'hpa', force: true }), 200, 'forced apply to /scale');
        t.is(forced.spec.replicas, 4);
        t.true(managers(await ctx.get(t, 'mf')).includes('hpa/Apply/scale'));
      }
      const emptied = await ctx.mergePatch(t, 'mf', { metadata: { managedFields: [] } });
      t.true(managers(emptied).length > 0, 'an empty list leaves managedFields as they are');
      const reset = await ctx.mergePatch(t, 'mf', { metadata: { managedFields: [{}], labels: { reset: 'yes' } } });
      t.deepEqual(managers(reset), [], '[{}] resets managedFields');
      const tooLong = await ctx.raw('POST', ctx.collection(), { body: ctx.sample('long'), query: { fieldManager: 'x'.repeat(129) } });
      expectStatus(t, tooLong, 422, 'Invalid', 'a fieldManager over 128 characters');
    },
  },
];
