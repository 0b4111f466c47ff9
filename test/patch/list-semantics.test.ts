// The list semantics the kinds declare (registry/schema.ts listMap/listSet/atomicList) are what
// strategic merge patch and the field manager read (patchMetaOf) and what OpenAPI v2 and v3
// publish (`x-kubernetes-list-type`, `-list-map-keys`, `-patch-strategy`, `-patch-merge-key`).
import test from 'ava';
import { buildV2, buildV3, definitionName } from '../../openapi/build.js';
import { allKinds } from '../../registry/kinds.js';
import { patchMetaOf, type PatchMeta } from '../../registry/patch/meta.js';

interface Row {
  kind: string;
  /** Dotted path from the object; `[]` steps into list items. */
  path: string;
  listType: 'map' | 'set' | 'atomic';
  keys?: string[];
  strategy?: string;
}

const rows: Row[] = [
  { kind: 'StormWorkerPool', path: 'spec.template.spec.containers', listType: 'map', keys: ['name'], strategy: 'merge' },
  { kind: 'StormWorkerPool', path: 'spec.template.spec.containers[].env', listType: 'map', keys: ['name'], strategy: 'merge' },
  { kind: 'StormWorkerPool', path: 'spec.template.spec.volumes', listType: 'map', keys: ['name'], strategy: 'merge' },
  { kind: 'StormWorkerPool', path: 'spec.template.spec.tolerations', listType: 'atomic' },
  { kind: 'StormWorkerPool', path: 'spec.jvmOpts', listType: 'atomic' },
  { kind: 'StormWorkerPool', path: 'status.conditions', listType: 'map', keys: ['type'], strategy: 'merge' },
  { kind: 'StormTopology', path: 'spec.workers.tolerations', listType: 'atomic' },
  { kind: 'StormTopology', path: 'status.conditions', listType: 'map', keys: ['type'], strategy: 'merge' },
  { kind: 'StormCluster', path: 'spec.imagePullSecrets', listType: 'map', keys: ['name'], strategy: 'merge' },
  { kind: 'HourglassExecutor', path: 'spec.config.chains', listType: 'map', keys: ['name'], strategy: 'merge' },
  { kind: 'Performer', path: 'spec.config.env', listType: 'map', keys: ['name'], strategy: 'merge' },
  { kind: 'PVCPolicy', path: 'spec.selector.matchExpressions', listType: 'atomic' },
  { kind: 'PVCGroup', path: 'metadata.finalizers', listType: 'set', strategy: 'merge' },
  { kind: 'PVCGroup', path: 'metadata.ownerReferences', listType: 'map', keys: ['uid'], strategy: 'merge' },
];

function metaAt(meta: PatchMeta, path: string): PatchMeta {
  let m = meta;
  for (const step of path.split('.')) {
    const list = step.endsWith('[]');
    m = m.field(list ? step.slice(0, -2) : step);
    if (list) m = m.items();
  }
  return m;
}

type Doc = Record<string, any>;

/** The published schema node at `path` (spec/status only), following `$ref`s and `allOf`. */
function schemaAt(doc: Doc, root: Doc, path: string): Doc {
  const resolve = (node: Doc): Doc => {
    const ref = node.$ref ?? node.allOf?.[0]?.$ref;
    if (!ref) return node;
    const name = ref.split('/').pop();
    return { ...resolve(doc.definitions?.[name] ?? doc.components?.schemas?.[name]), ...node };
  };
  let node = resolve(root);
  for (const step of path.split('.')) {
    const list = step.endsWith('[]');
    node = resolve(node.properties[list ? step.slice(0, -2) : step]);
    if (list) node = resolve(node.items);
  }
  return node;
}

for (const row of rows) {
  test(`${row.kind} ${row.path}: ${row.listType}${row.keys ? ` by ${row.keys.join(',')}` : ''}`, (t) => {
    const decl = allKinds.find((k) => k.kind === row.kind)!;
    const meta = metaAt(patchMetaOf(decl), row.path);
    t.is(meta.listType, row.listType);
    t.deepEqual(meta.listMapKeys, row.keys ?? []);
    t.deepEqual(meta.patchStrategies, row.strategy ? [row.strategy] : []);
    t.is(meta.patchMergeKey, row.strategy && row.keys ? row.keys[0] : undefined);
    if (row.path.startsWith('metadata.')) return;
    const version = decl.versions[0];
    const name = definitionName(decl.group, version, decl.kind);
    const v3 = buildV3(allKinds, decl.group, version) as Doc;
    const v2 = buildV2(allKinds) as Doc;
    for (const [label, doc, root] of [
      ['v3', v3, v3.components.schemas[name]],
      ['v2', v2, v2.definitions[name]],
    ] as const) {
      const node = schemaAt(doc, root, row.path);
      const want = row.listType === 'atomic' ? undefined : row.listType;
      if (want) t.is(node['x-kubernetes-list-type'], want, `${label} list type`);
      else t.not(node['x-kubernetes-list-type'], 'map', `${label} list type`);
      t.deepEqual(node['x-kubernetes-list-map-keys'], row.keys, `${label} map keys`);
      t.is(node['x-kubernetes-patch-strategy'], row.strategy, `${label} patch strategy`);
      t.is(node['x-kubernetes-patch-merge-key'], row.strategy && row.keys ? row.keys[0] : undefined, `${label} merge key`);
    }
  });
}
