// The kinds of the stand-in host cluster, declared like this project's own kinds but with
// permissive schemas: every structure is an open map (`x-kubernetes-preserve-unknown-fields`), with
// only the defaults and top-level fields clients rely on. Validation is kube-apiserver's only where
// a test needs it (a PVC's spec is immutable but for a storage request that may only grow).
import { z } from 'zod';
import { forbidden, type FieldError } from '../../apiserver/errors.js';
import { ageColumn, nameColumn, pathColumn, selectableFields } from '../../registry/columns.js';
import { fieldAt, type KindDeclaration, type TableColumn } from '../../registry/kind.js';
import type { KubeObject } from '../../registry/meta.js';
import { quantityValue } from '../../registry/validation.js';

/** An open map: any JSON object, published as preserving unknown fields. */
function open(description: string) {
  return z.record(z.string(), z.unknown()).meta({ description, 'x-kubernetes-preserve-unknown-fields': true });
}

/** An open map with some keys defaulted (zod passes every other key through). */
function openWith<T extends z.core.$ZodLooseShape>(shape: T, description: string) {
  return z.looseObject(shape).meta({ description, 'x-kubernetes-preserve-unknown-fields': true });
}

const optionalSpec = (kind: string) => open(`spec of the ${kind}, passed through unchecked.`).optional();
const optionalStatus = (kind: string) => open(`status of the ${kind}, passed through unchecked.`).optional();

/** A workload's `spec`: open, with `replicas` defaulted to 1 as kube-apiserver does. */
const replicatedSpec = (kind: string) =>
  openWith({ replicas: z.number().int().min(0).default(1) }, `spec of the ${kind}; replicas defaults to 1.`).default({ replicas: 1 });

type Declared = Omit<KindDeclaration, 'listKind' | 'singular' | 'categories' | 'description' | 'selectableFields' | 'columns' | 'spec' | 'status'> &
  Partial<Pick<KindDeclaration, 'categories' | 'selectableFields' | 'columns' | 'spec' | 'status'>>;

function declare(d: Declared): KindDeclaration {
  return {
    listKind: `${d.kind}List`,
    singular: d.kind.toLowerCase(),
    categories: [],
    description: `${d.kind} of the stand-in host cluster (permissive schema).`,
    selectableFields: {},
    columns: [nameColumn, ageColumn],
    spec: optionalSpec(d.kind),
    status: optionalStatus(d.kind),
    ...d,
  };
}

/** `matchLabels` (and `In`/`NotIn`/`Exists`/`DoesNotExist` expressions) as a label selector string. */
export function selectorString(selector: unknown): string {
  const s = (selector ?? {}) as { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

const replicaScale = {
  specReplicasPath: 'spec.replicas',
  statusReplicasPath: 'status.replicas',
  labelSelector: (obj: KubeObject) => selectorString(fieldAt(obj, 'spec.selector')),
};

function readyColumn(ready: string, total: string, description: string): TableColumn {
  return {
    name: 'Ready',
    type: 'string',
    description,
    priority: 0,
    cell: (obj) => `${Number(fieldAt(obj, ready) ?? 0)}/${Number(fieldAt(obj, total) ?? 0)}`,
  };
}

const podColumns: TableColumn[] = [
  nameColumn,
  {
    name: 'Ready',
    type: 'string',
    description: 'Ready containers of all containers.',
    priority: 0,
    cell(obj) {
      const statuses = (fieldAt(obj, 'status.containerStatuses') as { ready?: boolean }[] | undefined) ?? [];
      const containers = (fieldAt(obj, 'spec.containers') as unknown[] | undefined) ?? [];
      return `${statuses.filter((s) => s.ready).length}/${containers.length}`;
    },
  },
  pathColumn('Status', 'string', 'status.phase', 'The phase of the pod.'),
  {
    name: 'Restarts',
    type: 'integer',
    description: 'Container restarts.',
    priority: 0,
    cell: (obj) => ((fieldAt(obj, 'status.containerStatuses') as { restartCount?: number }[] | undefined) ?? []).reduce((n, s) => n + (s.restartCount ?? 0), 0),
  },
  ageColumn,
  pathColumn('IP', 'string', 'status.podIP', 'The pod IP.', 1),
  pathColumn('Node', 'string', 'spec.nodeName', 'The node the pod runs on.', 1),
];

const timestamp = z.string();
const text = z.string();
const objectReference = open('A reference to an object.');

/** The ConfigMap fields; a ConfigMap has neither spec nor status. */
const configMapFields = {
  data: z.record(z.string(), z.string()).optional(),
  binaryData: z.record(z.string(), z.string()).optional(),
  immutable: z.boolean().optional(),
};

const secretFields = {
  data: z.record(z.string(), z.string()).optional(),
  stringData: z.record(z.string(), z.string()).optional(),
  type: z.string().optional(),
  immutable: z.boolean().optional(),
};

/** core/v1 Event's fields (events.k8s.io is not served). */
const eventFields = {
  involvedObject: objectReference.optional(),
  reason: text.optional(),
  message: text.optional(),
  type: text.optional(),
  source: open('The component reporting the event.').optional(),
  count: z.number().int().optional(),
  firstTimestamp: timestamp.nullish(),
  lastTimestamp: timestamp.nullish(),
  eventTime: timestamp.nullish(),
  reportingComponent: text.optional(),
  reportingInstance: text.optional(),
  action: text.optional(),
  related: objectReference.optional(),
  series: open('Data about the event series this event represents.').optional(),
};

const storageClassFields = {
  provisioner: text,
  parameters: z.record(z.string(), z.string()).optional(),
  reclaimPolicy: text.default('Delete'),
  mountOptions: z.array(z.string()).optional(),
  allowVolumeExpansion: z.boolean().optional(),
  volumeBindingMode: text.default('Immediate'),
  allowedTopologies: z.array(z.unknown()).optional(),
};

/** Secrets: `stringData` is write-only, merged into `data` (base64) on every write; `type` defaults to Opaque. */
function normalizeSecret(obj: KubeObject): void {
  const stringData = obj.stringData as Record<string, string> | undefined;
  if (stringData) {
    const data = { ...((obj.data as Record<string, string> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v, 'utf8').toString('base64');
    obj.data = data;
    delete obj.stringData;
  }
  obj.type ??= 'Opaque';
}

/** kube-apiserver labels every namespace with its own name. */
function labelNamespace(obj: KubeObject): void {
  const name = obj.metadata.name;
  if (name) obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': name };
}

/** Drops the null timestamps client-node sends for unset Date fields, as Go's decoder leaves them zero. */
function dropNullFields(obj: KubeObject): void {
  for (const [k, v] of Object.entries(obj)) if (v === null) delete obj[k];
}

/** The storage request of a PVC, as a number of bytes; undefined when absent or malformed. */
export function requestedStorage(obj: KubeObject): string | undefined {
  const v = fieldAt(obj, 'spec.resources.requests.storage');
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/** What the kinds' rules read from the rest of the cluster (as kube-apiserver's admission reads its informers). */
export interface HostKindsContext {
  /** The StorageClass `name` as currently cached; undefined when there is none. */
  storageClass(name: string): KubeObject | undefined;
}

/**
 * kube-apiserver's `PersistentVolumeClaimResize` admission: a claim may grow only when its
 * StorageClass exists and sets `allowVolumeExpansion: true` (403 Forbidden otherwise).
 */
function admitPvcResize(obj: KubeObject, old: KubeObject, context: HostKindsContext): void {
  const now = quantityValue(requestedStorage(obj));
  const before = quantityValue(requestedStorage(old));
  if (now === undefined || before === undefined || now <= before) return;
  const className = fieldAt(obj, 'spec.storageClassName');
  const storageClass = typeof className === 'string' && className !== '' ? context.storageClass(className) : undefined;
  if (storageClass?.allowVolumeExpansion !== true) {
    throw forbidden(
      { group: '', resource: 'persistentvolumeclaims', name: obj.metadata.name ?? '' },
      'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
    );
  }
}

/**
 * kube-apiserver's PVC update rules: the spec is immutable except `resources.requests` (and
 * `volumeAttributesClassName`), and the storage request may not shrink below the old one.
 */
function validatePvcUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const strip = (o: KubeObject) => {
    const spec = structuredClone(o.spec ?? {}) as Record<string, unknown>;
    const resources = (spec.resources ?? {}) as Record<string, unknown>;
    delete resources.requests;
    delete spec.volumeAttributesClassName;
    delete spec.volumeName; // bound by the (absent) PV controller
    return JSON.stringify(spec);
  };
  if (strip(obj) !== strip(old)) {
    return [
      {
        type: 'FieldValueForbidden',
        field: 'spec',
        detail: 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
      },
    ];
  }
  const now = requestedStorage(obj);
  const before = requestedStorage(old);
  if (now !== undefined && before !== undefined) {
    const n = quantityValue(now);
    const b = quantityValue(before);
    if (n !== undefined && b !== undefined && n < b) {
      return [{ type: 'FieldValueForbidden', field: 'spec.resources.requests.storage', detail: 'field can not be less than status.capacity' }];
    }
  }
  return [];
}

function validatePvc(obj: KubeObject): FieldError[] {
  const storage = requestedStorage(obj);
  if (storage === undefined) return [{ type: 'FieldValueRequired', field: 'spec.resources[storage]' }];
  if (quantityValue(storage) === undefined) {
    return [{ type: 'FieldValueInvalid', field: 'spec.resources.requests.storage', value: storage, detail: 'must be a quantity' }];
  }
  return [];
}

/**
 * The kinds of a host cluster. `context` lets the PVC rules see StorageClasses; without it any
 * claim may grow (no resize admission).
 */
export function createHostKinds(context?: HostKindsContext): KindDeclaration[] {
  const validateUpdate = (obj: KubeObject, old: KubeObject): FieldError[] => {
    const errors = validatePvcUpdate(obj, old);
    if (errors.length === 0 && context) admitPvcResize(obj, old, context);
    return errors;
  };
  return [
    declare({
      group: '',
      versions: ['v1'],
      kind: 'Namespace',
      plural: 'namespaces',
      shortNames: ['ns'],
      namespaced: false,
      spec: openWith({ finalizers: z.array(z.string()).default(['kubernetes']) }, 'spec of the Namespace.').default({ finalizers: ['kubernetes'] }),
      normalize: labelNamespace,
      selectableFields: selectableFields('status.phase'),
      columns: [nameColumn, pathColumn('Status', 'string', 'status.phase', 'The phase of the namespace.'), ageColumn],
    }),
    declare({ group: '', versions: ['v1'], kind: 'Node', plural: 'nodes', shortNames: ['no'], namespaced: false, selectableFields: selectableFields('spec.unschedulable') }),
    declare({
      group: '',
      versions: ['v1'],
      kind: 'Pod',
      plural: 'pods',
      shortNames: ['po'],
      categories: ['all'],
      namespaced: true,
      columns: podColumns,
      selectableFields: selectableFields('spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP', 'status.nominatedNodeName'),
    }),
    declare({ group: '', versions: ['v1'], kind: 'Service', plural: 'services', shortNames: ['svc'], categories: ['all'], namespaced: true }),
    declare({ group: '', versions: ['v1'], kind: 'ConfigMap', plural: 'configmaps', shortNames: ['cm'], namespaced: true, hasSpec: false, hasStatus: false, topLevel: configMapFields }),
    declare({
      group: '',
      versions: ['v1'],
      kind: 'Secret',
      plural: 'secrets',
      shortNames: [],
      namespaced: true,
      hasSpec: false,
      hasStatus: false,
      topLevel: secretFields,
      normalize: normalizeSecret,
      selectableFields: selectableFields('type'),
      columns: [nameColumn, pathColumn('Type', 'string', 'type', 'The type of the secret.'), ageColumn],
    }),
    declare({
      group: '',
      versions: ['v1'],
      kind: 'PersistentVolumeClaim',
      plural: 'persistentvolumeclaims',
      shortNames: ['pvc'],
      namespaced: true,
      rules: { validate: validatePvc, validateUpdate },
      columns: [
        nameColumn,
        pathColumn('Status', 'string', 'status.phase', 'The phase of the claim.'),
        pathColumn('Capacity', 'string', 'status.capacity.storage', 'The provisioned capacity.'),
        pathColumn('StorageClass', 'string', 'spec.storageClassName', 'The storage class.'),
        ageColumn,
      ],
    }),
    declare({
      group: '',
      versions: ['v1'],
      kind: 'Event',
      plural: 'events',
      shortNames: ['ev'],
      namespaced: true,
      hasSpec: false,
      hasStatus: false,
      topLevel: eventFields,
      normalize: dropNullFields,
      selectableFields: {
        ...selectableFields(
          'involvedObject.kind',
          'involvedObject.namespace',
          'involvedObject.name',
          'involvedObject.uid',
          'involvedObject.apiVersion',
          'involvedObject.resourceVersion',
          'involvedObject.fieldPath',
          'reason',
          'reportingComponent',
          'type',
        ),
        // kube-apiserver's `source` selects on source.component.
        source: (obj) => {
          const component = fieldAt(obj, 'source.component');
          return typeof component === 'string' ? component : undefined;
        },
      },
      columns: [
        nameColumn,
        pathColumn('Type', 'string', 'type', 'Normal or Warning.'),
        pathColumn('Reason', 'string', 'reason', 'Why the event was recorded.'),
        pathColumn('Message', 'string', 'message', 'The event message.'),
        ageColumn,
      ],
    }),
    declare({
      group: 'apps',
      versions: ['v1'],
      kind: 'Deployment',
      plural: 'deployments',
      shortNames: ['deploy'],
      categories: ['all'],
      namespaced: true,
      spec: replicatedSpec('Deployment'),
      scale: replicaScale,
      columns: [nameColumn, readyColumn('status.readyReplicas', 'spec.replicas', 'Ready replicas of desired replicas.'), pathColumn('Available', 'integer', 'status.availableReplicas', 'Available replicas.'), ageColumn],
    }),
    declare({
      group: 'apps',
      versions: ['v1'],
      kind: 'StatefulSet',
      plural: 'statefulsets',
      shortNames: ['sts'],
      categories: ['all'],
      namespaced: true,
      spec: replicatedSpec('StatefulSet'),
      scale: replicaScale,
      columns: [nameColumn, readyColumn('status.readyReplicas', 'spec.replicas', 'Ready replicas of desired replicas.'), ageColumn],
    }),
    declare({
      group: 'apps',
      versions: ['v1'],
      kind: 'DaemonSet',
      plural: 'daemonsets',
      shortNames: ['ds'],
      categories: ['all'],
      namespaced: true,
      columns: [
        nameColumn,
        pathColumn('Desired', 'integer', 'status.desiredNumberScheduled', 'Nodes that should run the daemon pod.'),
        pathColumn('Ready', 'integer', 'status.numberReady', 'Nodes running a ready daemon pod.'),
        ageColumn,
      ],
    }),
    declare({
      group: 'batch',
      versions: ['v1'],
      kind: 'Job',
      plural: 'jobs',
      shortNames: [],
      categories: ['all'],
      namespaced: true,
      spec: openWith(
        { parallelism: z.number().int().min(0).default(1), completions: z.number().int().min(0).default(1), backoffLimit: z.number().int().min(0).default(6) },
        'spec of the Job; parallelism, completions and backoffLimit default as in kube-apiserver.',
      ).default({ parallelism: 1, completions: 1, backoffLimit: 6 }),
      selectableFields: selectableFields('status.successful'),
      columns: [nameColumn, pathColumn('Succeeded', 'integer', 'status.succeeded', 'Succeeded pods.'), pathColumn('Failed', 'integer', 'status.failed', 'Failed pods.'), ageColumn],
    }),
    declare({ group: 'autoscaling', versions: ['v2'], kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', shortNames: ['hpa'], categories: ['all'], namespaced: true }),
    declare({
      group: 'storage.k8s.io',
      versions: ['v1'],
      kind: 'StorageClass',
      plural: 'storageclasses',
      shortNames: ['sc'],
      namespaced: false,
      hasSpec: false,
      hasStatus: false,
      topLevel: storageClassFields,
      columns: [nameColumn, pathColumn('Provisioner', 'string', 'provisioner', 'The provisioner.'), pathColumn('AllowVolumeExpansion', 'boolean', 'allowVolumeExpansion', 'Whether claims may grow.'), ageColumn],
    }),
    declare({
      group: 'coordination.k8s.io',
      versions: ['v1'],
      kind: 'Lease',
      plural: 'leases',
      shortNames: [],
      namespaced: true,
      hasStatus: false,
      columns: [nameColumn, pathColumn('Holder', 'string', 'spec.holderIdentity', 'The current holder.'), ageColumn],
    }),
  ];
}
