// Object metadata: the shapes every stored object shares, and their validation.
import type { FieldError } from '../apiserver/errors.js';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: ManagedFieldsEntry[];
}

/** Any object of the API: apiVersion, kind, metadata, and the kind's own fields. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Empty when `name` is a DNS-1123 subdomain (object names); otherwise the reasons. */
export function dnsSubdomainErrors(name: string): string[] {
  const out: string[] = [];
  if (name.length > 253) out.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(name)) {
    out.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
  return out;
}

/** Empty when `name` is a DNS-1123 label (namespaces, topology names); otherwise the reasons. */
export function dnsLabelErrors(name: string): string[] {
  const out: string[] = [];
  if (name.length > 63) out.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(name)) {
    out.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  }
  return out;
}

/** Label and annotation keys: an optional DNS-subdomain prefix and a name of at most 63 chars. */
export function qualifiedNameErrors(key: string): string[] {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const out: string[] = [];
  if (prefix !== undefined && (prefix.length === 0 || dnsSubdomainErrors(prefix).length > 0)) {
    out.push('prefix part must be a lowercase RFC 1123 subdomain');
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME_PART.test(name)) {
    out.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, and be at most 63 characters",
    );
  }
  return out;
}

export function labelValueErrors(value: string): string[] {
  return value.length <= 63 && LABEL_VALUE.test(value)
    ? []
    : [
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, and be at most 63 characters",
      ];
}

const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/**
 * Validates the user-settable metadata of an object: name (or generateName), namespace presence,
 * labels, annotations, finalizers. `namespaced` says whether the kind lives in a namespace.
 */
export function validateObjectMeta(meta: ObjectMeta, namespaced: boolean): FieldError[] {
  const errors: FieldError[] = [];
  if (!meta.name && !meta.generateName) {
    errors.push({ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' });
  } else if (meta.name) {
    for (const detail of dnsSubdomainErrors(meta.name)) errors.push({ type: 'FieldValueInvalid', field: 'metadata.name', value: meta.name, detail });
  }
  if (namespaced && !meta.namespace) errors.push({ type: 'FieldValueRequired', field: 'metadata.namespace' });
  if (namespaced && meta.namespace) {
    for (const detail of dnsLabelErrors(meta.namespace)) {
      errors.push({ type: 'FieldValueInvalid', field: 'metadata.namespace', value: meta.namespace, detail });
    }
  }
  if (!namespaced && meta.namespace) errors.push({ type: 'FieldValueForbidden', field: 'metadata.namespace', detail: 'not allowed on this type' });
  for (const [key, value] of Object.entries(meta.labels ?? {})) {
    for (const detail of qualifiedNameErrors(key)) errors.push({ type: 'FieldValueInvalid', field: 'metadata.labels', value: key, detail });
    if (typeof value !== 'string') {
      errors.push({ type: 'FieldValueTypeInvalid', field: `metadata.labels.${key}`, value, detail: 'must be a string' });
    } else {
      for (const detail of labelValueErrors(value)) errors.push({ type: 'FieldValueInvalid', field: 'metadata.labels', value, detail });
    }
  }
  let annotationBytes = 0;
  for (const [key, value] of Object.entries(meta.annotations ?? {})) {
    for (const detail of qualifiedNameErrors(key)) errors.push({ type: 'FieldValueInvalid', field: 'metadata.annotations', value: key, detail });
    if (typeof value !== 'string') errors.push({ type: 'FieldValueTypeInvalid', field: `metadata.annotations.${key}`, value, detail: 'must be a string' });
    annotationBytes += key.length + String(value).length;
  }
  if (annotationBytes > MAX_ANNOTATIONS_BYTES) {
    errors.push({ type: 'FieldValueTooLong', field: 'metadata.annotations', detail: `may not be more than ${MAX_ANNOTATIONS_BYTES} bytes` });
  }
  (meta.finalizers ?? []).forEach((f, i) => {
    for (const detail of qualifiedNameErrors(f)) errors.push({ type: 'FieldValueInvalid', field: `metadata.finalizers[${i}]`, value: f, detail });
  });
  return errors;
}

/** Fields a client may not change on update; the server owns them. */
export function validateObjectMetaUpdate(meta: ObjectMeta, old: ObjectMeta): FieldError[] {
  const errors: FieldError[] = [];
  const immutable = ['name', 'namespace', 'uid', 'creationTimestamp'] as const;
  for (const field of immutable) {
    if (meta[field] !== undefined && meta[field] !== old[field]) {
      errors.push({ type: 'FieldValueInvalid', field: `metadata.${field}`, value: meta[field], detail: 'field is immutable' });
    }
  }
  return errors;
}
