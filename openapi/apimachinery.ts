// The apimachinery and autoscaling definitions the kinds' documents reference, named as
// Kubernetes publishes them (`io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`, ...). They are
// written in the neutral form of `schema.ts`: refs as `#/definitions/<name>`, `$ref` with
// sibling keys allowed; the v2 and v3 writers turn them into each format.
import type { JsonSchema } from './schema.js';

export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const OBJECT_META = `${META}.ObjectMeta`;
export const LIST_META = `${META}.ListMeta`;
export const STATUS = `${META}.Status`;
export const WATCH_EVENT = `${META}.WatchEvent`;
export const DELETE_OPTIONS = `${META}.DeleteOptions`;
export const PATCH = `${META}.Patch`;
export const TIME = `${META}.Time`;
export const SCALE = 'io.k8s.api.autoscaling.v1.Scale';

export const ref = (name: string): JsonSchema => ({ $ref: `#/definitions/${name}` });

const str = (description: string): JsonSchema => ({ type: 'string', description });
const int64 = (description: string): JsonSchema => ({ type: 'integer', format: 'int64', description });
const int32 = (description: string): JsonSchema => ({ type: 'integer', format: 'int32', description });
const stringMap = (description: string): JsonSchema => ({ type: 'object', additionalProperties: { type: 'string', default: '' }, description });
const stringList = (description: string): JsonSchema => ({ type: 'array', items: { type: 'string', default: '' }, description });
const time = (description: string): JsonSchema => ({ ...ref(TIME), description });

export const API_VERSION_DESCRIPTION =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
export const KIND_DESCRIPTION =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
export const OBJECT_META_DESCRIPTION =
  "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
export const LIST_META_DESCRIPTION =
  'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';

const apiVersion = str(API_VERSION_DESCRIPTION);
const kind = str(KIND_DESCRIPTION);

function gvk(group: string, version: string, k: string): JsonSchema {
  return { 'x-kubernetes-group-version-kind': [{ group, kind: k, version }] };
}

/** Every apimachinery/autoscaling definition, by name. */
export const apimachineryDefinitions: Record<string, JsonSchema> = {
  [TIME]: {
    type: 'string',
    format: 'date-time',
    description:
      'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON. It is serialized as an RFC 3339 timestamp, e.g. 2006-01-02T15:04:05Z.',
  },
  [`${META}.FieldsV1`]: {
    type: 'object',
    description:
      'FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format. Each key is either a field name (f:<name>), a value (v:<value>), a list item key (k:<keys>) or a position (i:<index>).',
  },
  [`${META}.ManagedFieldsEntry`]: {
    type: 'object',
    description: 'ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.',
    properties: {
      apiVersion: str('APIVersion defines the version of this resource that this field set applies to.'),
      fieldsType: str('FieldsType is the discriminator for the different fields format and version. The only valid value is "FieldsV1".'),
      fieldsV1: { ...ref(`${META}.FieldsV1`), description: 'FieldsV1 holds the first JSON version format as described in the "FieldsV1" type.' },
      manager: str('Manager is an identifier of the workflow managing these fields.'),
      operation: str('Operation is the type of operation which lead to this ManagedFieldsEntry being created: Apply or Update.'),
      subresource: str('Subresource is the name of the subresource used to update that object, or empty for the main resource.'),
      time: time('Time is the timestamp of when the ManagedFields entry was added.'),
    },
  },
  [`${META}.OwnerReference`]: {
    type: 'object',
    description: 'OwnerReference contains enough information to let you identify an owning object. The owner must be in the same namespace as the dependent, or be cluster-scoped.',
    required: ['apiVersion', 'kind', 'name', 'uid'],
    properties: {
      apiVersion: { ...str('API version of the referent.'), default: '' },
      blockOwnerDeletion: { type: 'boolean', description: 'If true, and the owner has the "foregroundDeletion" finalizer, the owner cannot be deleted from the key-value store until this reference is removed.' },
      controller: { type: 'boolean', description: 'If true, this reference points to the managing controller.' },
      kind: { ...str('Kind of the referent.'), default: '' },
      name: { ...str('Name of the referent.'), default: '' },
      uid: { ...str('UID of the referent.'), default: '' },
    },
    'x-kubernetes-map-type': 'atomic',
  },
  [OBJECT_META]: {
    type: 'object',
    description: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
    properties: {
      annotations: stringMap(
        'Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata. They are not queryable and should be preserved when modifying objects. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations',
      ),
      creationTimestamp: time(
        'CreationTimestamp is a timestamp representing the server time when this object was created. It is represented in RFC3339 form and is in UTC. Populated by the system. Read-only. Null for lists.',
      ),
      deletionGracePeriodSeconds: int64(
        'Number of seconds allowed for this object to gracefully terminate before it will be removed from the system. Only set when deletionTimestamp is also set. May only be shortened. Read-only.',
      ),
      deletionTimestamp: time(
        'DeletionTimestamp is the RFC 3339 date and time at which this resource will be deleted. This field is set by the server when a graceful deletion is requested by the user, and is not directly settable by a client. Populated by the system when a graceful deletion is requested. Read-only.',
      ),
      finalizers: {
        ...stringList(
          'Must be empty before the object is deleted from the registry. Each entry is an identifier for the responsible component that will remove the entry from the list.',
        ),
        'x-kubernetes-list-type': 'set',
        'x-kubernetes-patch-strategy': 'merge',
      },
      generateName: str(
        'GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided. The provided value has the same validation rules as the Name field, and may be truncated by the length of the suffix required to make the value unique on the server.',
      ),
      generation: int64('A sequence number representing a specific generation of the desired state. Populated by the system. Read-only.'),
      labels: stringMap(
        'Map of string keys and values that can be used to organize and categorize (scope and select) objects. May match selectors of replication controllers and services. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels',
      ),
      managedFields: {
        type: 'array',
        items: { ...ref(`${META}.ManagedFieldsEntry`), default: {} },
        description:
          "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow. This is mostly for internal housekeeping, and users typically shouldn't need to set or understand this field.",
        'x-kubernetes-list-type': 'atomic',
      },
      name: str(
        'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
      ),
      namespace: str(
        'Namespace defines the space within which each name must be unique. An empty namespace is equivalent to the "default" namespace, but "default" is the canonical representation. Not all objects are required to be scoped to a namespace - the value of this field for those objects will be empty. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces',
      ),
      ownerReferences: {
        type: 'array',
        items: { ...ref(`${META}.OwnerReference`), default: {} },
        description:
          'List of objects depended by this object. If ALL objects in the list have been deleted, this object will be garbage collected. If this object is managed by a controller, then an entry in this list will point to this controller, with the controller field set to true. There cannot be more than one managing controller.',
        'x-kubernetes-list-map-keys': ['uid'],
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-patch-merge-key': 'uid',
        'x-kubernetes-patch-strategy': 'merge',
      },
      resourceVersion: str(
        'An opaque value that represents the internal version of this object that can be used by clients to determine when objects have changed. May be used for optimistic concurrency, change detection, and the watch operation on a resource or set of resources. Clients must treat these values as opaque and passed unmodified back to the server. Populated by the system. Read-only. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#concurrency-control-and-consistency',
      ),
      selfLink: str('Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.'),
      uid: str(
        'UID is the unique in time and space value for this object. It is typically generated by the server on successful creation of a resource and is not allowed to change on PUT operations. Populated by the system. Read-only. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#uids',
      ),
    },
  },
  [LIST_META]: {
    type: 'object',
    description: 'ListMeta describes metadata that synthetic resources must have, including lists and various status objects.',
    properties: {
      continue: str(
        'continue may be set if the user set a limit on the number of items returned, and indicates that the server has more data available. The value is opaque and may be used to issue another request to the endpoint that served this list to retrieve the next set of available objects. Continuing a consistent list may not be possible if the server configuration has changed or more than a few minutes have passed.',
      ),
      remainingItemCount: int64(
        'remainingItemCount is the number of subsequent items in the list which are not included in this list response. Only set when the list was paginated with limit and has no selectors; it may be an estimate.',
      ),
      resourceVersion: str(
        "String that identifies the server's internal version of this object that can be used by clients to determine when objects have changed. Value must be treated as opaque by clients and passed unmodified back to the server. Populated by the system. Read-only.",
      ),
      selfLink: str('Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.'),
    },
  },
  [`${META}.StatusCause`]: {
    type: 'object',
    description: 'StatusCause provides more information about an api.Status failure, including cases when multiple errors are encountered.',
    properties: {
      field: str('The field of the resource that has caused this error, as named by its JSON serialization, e.g. "spec.replicas" or "items[0].name".'),
      message: str('A human-readable description of the cause of the error. This field may be presented as-is to a reader.'),
      reason: str('A machine-readable description of the cause of the error. If this value is empty there is no information available.'),
    },
  },
  [`${META}.StatusDetails`]: {
    type: 'object',
    description:
      'StatusDetails is a set of additional properties that MAY be set by the server to provide additional information about a response. The Reason field of a Status object defines what attributes will be set.',
    properties: {
      causes: {
        type: 'array',
        items: { ...ref(`${META}.StatusCause`), default: {} },
        description: 'The Causes array includes more details associated with the StatusReason failure.',
        'x-kubernetes-list-type': 'atomic',
      },
      group: str('The group attribute of the resource associated with the status StatusReason.'),
      kind: str('The kind attribute of the resource associated with the status StatusReason.'),
      name: str('The name attribute of the resource associated with the status StatusReason (when there is a single name which can be described).'),
      retryAfterSeconds: int32('If specified, the time in seconds before the operation should be retried.'),
      uid: str('UID of the resource (when there is a single resource which can be described).'),
    },
  },
  [STATUS]: {
    type: 'object',
    description: 'Status is a return value for calls that don\'t return other objects.',
    properties: {
      apiVersion,
      code: int32('Suggested HTTP return code for this status, 0 if not set.'),
      details: {
        ...ref(`${META}.StatusDetails`),
        description: 'Extended data associated with the reason. Each reason may define its own extended details.',
      },
      kind,
      message: str('A human-readable description of the status of this operation.'),
      metadata: { ...ref(LIST_META), default: {}, description: LIST_META_DESCRIPTION },
      reason: str('A machine-readable description of why this operation is in the "Failure" status. If this value is empty there is no information available.'),
      status: str('Status of the operation. One of: "Success" or "Failure".'),
    },
    ...gvk('', 'v1', 'Status'),
  },
  ['io.k8s.apimachinery.pkg.runtime.RawExtension']: {
    type: 'object',
    description: 'RawExtension holds an embedded object of any kind, serialized as JSON.',
  },
  [WATCH_EVENT]: {
    type: 'object',
    description: 'Event represents a single event to a watched resource.',
    required: ['type', 'object'],
    properties: {
      object: {
        ...ref('io.k8s.apimachinery.pkg.runtime.RawExtension'),
        description: 'Object is: * If Type is Added or Modified: the new state of the object. * If Type is Deleted: the state of the object immediately before deletion. * If Type is Error: *Status is recommended; other types may make sense depending on context.',
      },
      type: { ...str('Type of the event: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.'), default: '' },
    },
    'x-kubernetes-group-version-kind': [{ group: '', kind: 'WatchEvent', version: 'v1' }],
  },
  [`${META}.Preconditions`]: {
    type: 'object',
    description: 'Preconditions must be fulfilled before an operation (update, delete, etc.) is carried out.',
    properties: {
      resourceVersion: str('Specifies the target ResourceVersion'),
      uid: str('Specifies the target UID.'),
    },
  },
  [DELETE_OPTIONS]: {
    type: 'object',
    description: 'DeleteOptions may be provided when deleting an API object.',
    properties: {
      apiVersion,
      dryRun: { ...stringList('When present, indicates that modifications should not be persisted. The only valid value is All.'), 'x-kubernetes-list-type': 'atomic' },
      gracePeriodSeconds: int64(
        'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used.',
      ),
      ignoreStoreReadErrorWithClusterBreakingPotential: {
        type: 'boolean',
        description: 'if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error.',
      },
      kind,
      orphanDependents: {
        type: 'boolean',
        description: 'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned.',
      },
      preconditions: {
        ...ref(`${META}.Preconditions`),
        description: 'Must be fulfilled before a deletion is carried out. If not possible, a 409 Conflict status will be returned.',
      },
      propagationPolicy: str(
        "Whether and how garbage collection will be performed: 'Orphan', 'Background' (the default) or 'Foreground'.",
      ),
    },
    'x-kubernetes-group-version-kind': [
      { group: '', kind: 'DeleteOptions', version: 'v1' },
      { group: 'autoscaling', kind: 'DeleteOptions', version: 'v1' },
    ],
  },
  [PATCH]: {
    type: 'object',
    description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.',
  },
  ['io.k8s.api.autoscaling.v1.ScaleSpec']: {
    type: 'object',
    description: 'ScaleSpec describes the attributes of a scale subresource.',
    properties: { replicas: int32('replicas is the desired number of instances for the scaled object.') },
  },
  ['io.k8s.api.autoscaling.v1.ScaleStatus']: {
    type: 'object',
    description: 'ScaleStatus represents the current status of a scale subresource.',
    required: ['replicas'],
    properties: {
      replicas: { ...int32('replicas is the actual number of observed instances of the scaled object.'), default: 0 },
      selector: str(
        'selector is the label query over pods that should match the replicas count. This is the same as the label selector but in the string format.',
      ),
    },
  },
  [SCALE]: {
    type: 'object',
    description: 'Scale represents a scaling request for a resource.',
    properties: {
      apiVersion,
      kind,
      metadata: { ...ref(OBJECT_META), default: {}, description: OBJECT_META_DESCRIPTION },
      spec: {
        ...ref('io.k8s.api.autoscaling.v1.ScaleSpec'),
        default: {},
        description: 'spec defines the behavior of the scale.',
      },
      status: {
        ...ref('io.k8s.api.autoscaling.v1.ScaleStatus'),
        default: {},
        description: 'status is the current status of the scale. Read-only.',
      },
    },
    'x-kubernetes-group-version-kind': [{ group: 'autoscaling', kind: 'Scale', version: 'v1' }],
  },
};
