// Field-set math of server-side apply, table-driven: which fields an object has (FieldsV1), how
// writes move ownership between managers, conflicts, and what an Apply removes.
import test from 'ava';
import { z } from 'zod';
import { StatusError } from '../../apiserver/errors.js';
import { applyConfiguration, mergeApplied } from '../../registry/fieldmanager/apply.js';
import { compareObjects, fieldsOf, FieldSet, fromFieldsV1, pathString, toFieldsV1 } from '../../registry/fieldmanager/fieldset.js';
import { appliedFieldSet, trackManagedFields, type ManagerRequest } from '../../registry/fieldmanager/managed-fields.js';
import type { KubeObject, ManagedFieldsEntry } from '../../registry/meta.js';
import { PatchMeta } from '../../registry/patch/meta.js';
import { atomicList, listMap, listSet } from '../../registry/schema.js';
import { fromZod, type JsonSchema } from '../../openapi/schema.js';

const container = z.object({ name: z.string(), image: z.string().optional(), args: atomicList(z.string()).optional() });
const spec = z.object({
  replicas: z.number().optional(),
  paused: z.boolean().optional(),
  containers: listMap(container, ['name']).optional(),
  tags: listSet(z.string()).optional(),
  args: atomicList(z.string()).optional(),
  config: z.record(z.string(), z.string()).optional(),
  nested: z.object({ a: z.string().optional(), b: z.string().optional() }).optional(),
});
const definitions: Record<string, JsonSchema> = {};
const meta = new PatchMeta(
  {
    type: 'object',
    properties: {
      metadata: { type: 'object', properties: { labels: { type: 'object', additionalProperties: { type: 'string' } } } },
      spec: fromZod(spec, { definitionPrefix: 't', definitions }),
      status: { type: 'object', properties: { phase: { type: 'string' } } },
    },
  },
  definitions,
);

/** `spec.containers[name=w].image` → FieldsV1 path elements; `[=v]` is a set value. */
function path(p: string): string[] {
  const out: string[] = [];
  for (const part of p.match(/[^.[\]]+|\[[^\]]*\]/g) ?? []) {
    if (part.startsWith('[=')) out.push(`v:${JSON.stringify(part.slice(2, -1))}`);
    else if (part.startsWith('[')) {
      const [k, v] = part.slice(1, -1).split('=');
      out.push(`k:${JSON.stringify({ [k]: v })}`);
    } else out.push(`f:${part}`);
  }
  return out;
}
const set = (...paths: string[]) => new FieldSet(paths.map(path));
const names = (s: FieldSet) => s.list().map(pathString).sort();

const obj = (specValue: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: 'demo/v1',
  kind: 'Demo',
  metadata: { name: 'x', namespace: 'ns', uid: 'u', resourceVersion: '5', ...(extra.metadata ?? {}) },
  spec: specValue,
  ...(extra.status ? { status: extra.status } : {}),
});

// ---- FieldsV1 ---------------------------------------------------------------------------------

const fieldCases: Array<{ name: string; value: unknown; fields: string[] }> = [
  { name: 'scalars are leaves; structs are not members', value: { spec: { replicas: 1, nested: { a: 'x' } } }, fields: ['.spec.nested.a', '.spec.replicas'] },
  { name: 'an empty struct is a leaf', value: { spec: { nested: {} } }, fields: ['.spec.nested'] },
  { name: 'granular maps are members with their keys', value: { spec: { config: { k: 'v' } } }, fields: ['.spec.config', '.spec.config.k'] },
  {
    name: 'map-list items are members by key, with their fields',
    value: { spec: { containers: [{ name: 'w', image: 'i', args: ['a'] }] } },
    fields: ['.spec.containers[name="w"]', '.spec.containers[name="w"].args', '.spec.containers[name="w"].image', '.spec.containers[name="w"].name'],
  },
  { name: 'set-list values are members', value: { spec: { tags: ['a', 'b'] } }, fields: ['.spec.tags[="a"]', '.spec.tags[="b"]'] },
  { name: 'atomic lists are one leaf', value: { spec: { args: ['a', 'b'] } }, fields: ['.spec.args'] },
  { name: 'an empty list is a leaf', value: { spec: { containers: [] } }, fields: ['.spec.containers'] },
  { name: 'duplicate keys make a map list atomic', value: { spec: { containers: [{ name: 'a' }, { name: 'a' }] } }, fields: ['.spec.containers'] },
];
for (const c of fieldCases) {
  test(`fields of an object: ${c.name}`, (t) => {
    const { set: fields } = fieldsOf(c.value, meta);
    t.deepEqual(names(fields), [...c.fields].sort());
    t.true(fromFieldsV1(toFieldsV1(fields)).equals(fields), 'FieldsV1 round trip');
  });
}

test('FieldsV1 wire form: "." marks members with children, keys sorted', (t) => {
  const { set: fields } = fieldsOf({ metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'w', image: 'i' }], replicas: 2 } }, meta);
  t.deepEqual(toFieldsV1(fields), {
    'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
    'f:spec': { 'f:containers': { 'k:{"name":"w"}': { '.': {}, 'f:image': {}, 'f:name': {} } }, 'f:replicas': {} },
  });
  t.throws(() => fromFieldsV1({ 'x:bad': {} }), { message: /invalid FieldsV1 path element/ });
});

test('comparison: added, removed and modified paths', (t) => {
  const before = { spec: { replicas: 1, args: ['a'], containers: [{ name: 'a', image: '1' }, { name: 'b' }] } };
  const after = { spec: { replicas: 2, args: ['a'], containers: [{ name: 'a', image: '2' }, { name: 'c' }] } };
  const c = compareObjects(before, after, meta);
  t.deepEqual(names(c.modified), ['.spec.containers[name="a"].image', '.spec.replicas']);
  t.deepEqual(names(c.added), ['.spec.containers[name="c"]', '.spec.containers[name="c"].name']);
  t.deepEqual(names(c.removed), ['.spec.containers[name="b"]', '.spec.containers[name="b"].name']);
});

// ---- ownership --------------------------------------------------------------------------------

const entry = (manager: string, operation: 'Apply' | 'Update', fields: FieldSet, subresource?: string): ManagedFieldsEntry => ({
  manager,
  operation,
  apiVersion: 'demo/v1',
  time: '2026-01-01T00:00:00Z',
  fieldsType: 'FieldsV1',
  fieldsV1: toFieldsV1(fields),
  ...(subresource ? { subresource } : {}),
});

interface OwnershipCase {
  name: string;
  managers: ManagedFieldsEntry[];
  current?: Record<string, unknown>;
  next: Record<string, unknown>;
  request: Omit<ManagerRequest, 'apiVersion'> & { appliedConfig?: Record<string, unknown> };
  subresource?: string;
  /** manager/operation → owned field paths, after the write. */
  owners?: Record<string, string[]>;
  /** Conflicting fields (409). */
  conflicts?: string[];
}

const ownershipCases: OwnershipCase[] = [
  {
    name: 'create: the creator owns every field it set',
    managers: [],
    next: { replicas: 1, config: { k: 'v' } },
    request: { manager: 'kubectl-create', operation: 'Update' },
    owners: { 'kubectl-create/Update': ['.spec.config', '.spec.config.k', '.spec.replicas'] },
  },
  {
    name: 'update: changed fields move to the writer, removed fields leave every manager',
    managers: [entry('a', 'Update', set('spec.replicas', 'spec.paused', 'spec.nested.a'))],
    current: { replicas: 1, paused: true, nested: { a: 'x' } },
    next: { replicas: 2, nested: { a: 'x' } },
    request: { manager: 'b', operation: 'Update' },
    owners: { 'a/Update': ['.spec.nested.a'], 'b/Update': ['.spec.replicas'] },
  },
  {
    name: 'update that changes nothing records nothing',
    managers: [entry('a', 'Update', set('spec.replicas'))],
    current: { replicas: 1 },
    next: { replicas: 1 },
    request: { manager: 'b', operation: 'Update' },
    owners: { 'a/Update': ['.spec.replicas'] },
  },
  {
    name: 'apply: the applier owns exactly its configuration, shared when values agree',
    managers: [entry('a', 'Apply', set('spec.replicas', 'spec.paused'))],
    current: { replicas: 1, paused: true },
    next: { replicas: 1, paused: true },
    request: { manager: 'b', operation: 'Apply', appliedConfig: { spec: { replicas: 1 } } },
    owners: { 'a/Apply': ['.spec.paused', '.spec.replicas'], 'b/Apply': ['.spec.replicas'] },
  },
  {
    name: 'apply: changing a field another manager owns is a conflict',
    managers: [entry('a', 'Apply', set('spec.replicas', 'spec.containers[name=w]', 'spec.containers[name=w].image', 'spec.containers[name=w].name'))],
    current: { replicas: 1, containers: [{ name: 'w', image: 'old' }] },
    next: { replicas: 3, containers: [{ name: 'w', image: 'new' }] },
    request: { manager: 'b', operation: 'Apply', appliedConfig: { spec: { replicas: 3, containers: [{ name: 'w', image: 'new' }] } } },
    conflicts: ['.spec.containers[name="w"].image', '.spec.replicas'],
  },
  {
    name: 'apply with force takes the conflicting fields',
    managers: [entry('a', 'Apply', set('spec.replicas', 'spec.paused'))],
    current: { replicas: 1, paused: true },
    next: { replicas: 3, paused: true },
    request: { manager: 'b', operation: 'Apply', force: true, appliedConfig: { spec: { replicas: 3 } } },
    owners: { 'a/Apply': ['.spec.paused'], 'b/Apply': ['.spec.replicas'] },
  },
  {
    name: 'apply conflicts with Update managers too',
    managers: [entry('kubectl-edit', 'Update', set('spec.replicas'))],
    current: { replicas: 1 },
    next: { replicas: 2 },
    request: { manager: 'kubectl', operation: 'Apply', appliedConfig: { spec: { replicas: 2 } } },
    conflicts: ['.spec.replicas'],
  },
  {
    name: 'no conflict with its own earlier apply',
    managers: [entry('kubectl', 'Apply', set('spec.replicas'))],
    current: { replicas: 1 },
    next: { replicas: 2 },
    request: { manager: 'kubectl', operation: 'Apply', appliedConfig: { spec: { replicas: 2 } } },
    owners: { 'kubectl/Apply': ['.spec.replicas'] },
  },
  {
    name: 'status writes are tracked separately and only own status',
    managers: [entry('a', 'Update', set('spec.replicas'))],
    current: { replicas: 1 },
    next: { replicas: 1 },
    subresource: 'status',
    request: { manager: 'controller', operation: 'Update' },
    owners: { 'a/Update': ['.spec.replicas'], 'controller/Update/status': ['.status.phase'] },
  },
];

for (const c of ownershipCases) {
  test(`ownership: ${c.name}`, (t) => {
    const current = c.current ? obj(c.current, { metadata: { managedFields: c.managers } }) : undefined;
    const next = obj(c.next, { metadata: { managedFields: c.managers }, ...(c.subresource === 'status' ? { status: { phase: 'Running' } } : {}) });
    const { appliedConfig, ...rest } = c.request;
    const request: ManagerRequest = { ...rest, apiVersion: 'demo/v1', applied: appliedConfig ? appliedFieldSet(appliedConfig, meta) : undefined };
    const write = () => trackManagedFields(current, next, request, meta, c.subresource, '2026-02-02T00:00:00Z');
    if (c.conflicts) {
      const err = t.throws(write) as StatusError;
      t.true(err instanceof StatusError);
      t.is(err.status.code, 409);
      t.is(err.status.reason, 'Conflict');
      t.deepEqual(err.status.details?.causes?.map((x) => x.field).sort(), c.conflicts);
      t.true(err.status.details!.causes!.every((x) => x.reason === 'FieldManagerConflict' && /^conflict with "/.test(x.message)));
      t.regex(err.status.message, new RegExp(`^Apply failed with ${c.conflicts.length} conflicts?: conflicts? with "`));
      return;
    }
    write();
    const owners: Record<string, string[]> = {};
    for (const e of next.metadata.managedFields ?? []) {
      owners[[e.manager, e.operation, e.subresource].filter(Boolean).join('/')] = names(fromFieldsV1(e.fieldsV1));
      t.is(e.fieldsType, 'FieldsV1');
    }
    t.deepEqual(owners, c.owners);
  });
}

test('managedFields [{}] resets them; [] keeps the stored ones', (t) => {
  const managers = [entry('a', 'Update', set('spec.replicas'))];
  const current = obj({ replicas: 1 }, { metadata: { managedFields: managers } });
  const reset = obj({ replicas: 2 }, { metadata: { managedFields: [{}] } });
  trackManagedFields(current, reset, { manager: 'b', operation: 'Update', apiVersion: 'demo/v1' }, meta, undefined, 'now');
  t.is(reset.metadata.managedFields, undefined);
  const kept = obj({ replicas: 2 }, { metadata: { managedFields: [] } });
  trackManagedFields(current, kept, { manager: 'b', operation: 'Update', apiVersion: 'demo/v1' }, meta, undefined, 'now');
  t.deepEqual(kept.metadata.managedFields?.map((e) => e.manager), ['b']);
});

// ---- apply ------------------------------------------------------------------------------------

const applyCases: Array<{ name: string; live: Record<string, unknown>; managers: ManagedFieldsEntry[]; config: Record<string, unknown>; result: Record<string, unknown> }> = [
  {
    name: 'merges map lists by key, sets as a union, replaces atomic lists',
    live: { containers: [{ name: 'a', image: '1' }], tags: ['x'], args: ['1'] },
    managers: [],
    config: { containers: [{ name: 'a', args: ['z'] }, { name: 'b' }], tags: ['y'], args: ['2'] },
    result: { containers: [{ name: 'a', image: '1', args: ['z'] }, { name: 'b' }], tags: ['x', 'y'], args: ['2'] },
  },
  {
    name: 'a field the manager applied before and now omits is removed',
    live: { replicas: 3, paused: true },
    managers: [entry('me', 'Apply', set('spec.replicas', 'spec.paused'))],
    config: { replicas: 3 },
    result: { replicas: 3 },
  },
  {
    name: 'an omitted field another manager also owns stays',
    live: { replicas: 3, paused: true },
    managers: [entry('me', 'Apply', set('spec.replicas', 'spec.paused')), entry('other', 'Update', set('spec.paused'))],
    config: { replicas: 3 },
    result: { replicas: 3, paused: true },
  },
  {
    name: 'an omitted list item goes, unless someone owns something inside it',
    live: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '2' }] },
    managers: [
      entry('me', 'Apply', set('spec.containers[name=a]', 'spec.containers[name=a].name', 'spec.containers[name=a].image', 'spec.containers[name=b]', 'spec.containers[name=b].name', 'spec.containers[name=b].image')),
      entry('other', 'Update', set('spec.containers[name=b].image')),
    ],
    config: {},
    result: { containers: [{ name: 'b', image: '2' }] },
  },
];
for (const c of applyCases) {
  test(`apply: ${c.name}`, (t) => {
    const live = obj(c.live, { metadata: { managedFields: c.managers } });
    const { object } = applyConfiguration(live, { apiVersion: 'demo/v1', kind: 'Demo', metadata: { name: 'x' }, spec: c.config }, 'me', undefined, meta);
    t.deepEqual(object.spec, c.result);
  });
}

test('apply merge: null in the configuration removes the field', (t) => {
  t.deepEqual(mergeApplied({ a: 1, b: 2 }, { a: null }, meta), { b: 2 });
});
