// The Strategy contract: the per-kind rules the generic Store applies, in a fixed order.
//
// Create:  prepareForCreate → validate → warningsOnCreate → canonicalize
// Update:  prepareForUpdate(obj, old) → validateUpdate(obj, old) → warningsOnUpdate → canonicalize
//
// Only `prepareFor*` and `canonicalize` may mutate the object; `validate*` and `warnings*` read it.
// Validation returns every error with its field path; the Store turns a non-empty list into one
// 422 Invalid Status. Warnings are `path.to.field: message` strings sent as `Warning: 299` headers.
import type { FieldError } from '../apiserver/errors.js';
import { validateObjectMeta, validateObjectMetaUpdate, type KubeObject } from './meta.js';

export interface Strategy {
  readonly namespaced: boolean;
  /** PUT of a missing object creates it. */
  readonly allowCreateOnUpdate: boolean;
  /** PUT without metadata.resourceVersion overwrites instead of failing. */
  readonly allowUnconditionalUpdate: boolean;

  prepareForCreate(obj: KubeObject): void;
  validate(obj: KubeObject): FieldError[];
  warningsOnCreate(obj: KubeObject): string[];
  canonicalize(obj: KubeObject): void;

  prepareForUpdate(obj: KubeObject, old: KubeObject): void;
  validateUpdate(obj: KubeObject, old: KubeObject): FieldError[];
  warningsOnUpdate(obj: KubeObject, old: KubeObject): string[];
}

/** What a kind adds to the generic rules; every hook is optional. */
export interface KindRules {
  /** Cross-field rules the schema cannot express (one-of, ranges between fields). */
  validate?(obj: KubeObject): FieldError[];
  /** Rules about changes, e.g. immutable spec fields. Runs in addition to `validate`. */
  validateUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  warnings?(obj: KubeObject): string[];
}

function specChanged(obj: KubeObject, old: KubeObject): boolean {
  return JSON.stringify(obj.spec ?? null) !== JSON.stringify(old.spec ?? null);
}

/**
 * The main resource's strategy for a kind with a status subresource: status is ignored on
 * create and update (it is written only through `/status`), `metadata.generation` starts at 1
 * and grows by one on each spec change.
 */
export function mainStrategy(namespaced: boolean, rules: KindRules = {}): Strategy {
  return {
    namespaced,
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
    prepareForCreate(obj) {
      delete obj.status;
      obj.metadata.generation = 1;
    },
    validate(obj) {
      return [...validateObjectMeta(obj.metadata, namespaced), ...(rules.validate?.(obj) ?? [])];
    },
    warningsOnCreate(obj) {
      return rules.warnings?.(obj) ?? [];
    },
    canonicalize() {},
    prepareForUpdate(obj, old) {
      if (old.status === undefined) delete obj.status;
      else obj.status = old.status;
      obj.metadata.generation = (old.metadata.generation ?? 1) + (specChanged(obj, old) ? 1 : 0);
    },
    validateUpdate(obj, old) {
      return [
        ...validateObjectMeta(obj.metadata, namespaced),
        ...validateObjectMetaUpdate(obj.metadata, old.metadata),
        ...(rules.validate?.(obj) ?? []),
        ...(rules.validateUpdate?.(obj, old) ?? []),
      ];
    },
    warningsOnUpdate(obj) {
      return rules.warnings?.(obj) ?? [];
    },
  };
}

/**
 * The `/status` subresource's strategy: only `status` changes; spec and metadata keep their stored
 * values (labels, annotations and finalizers are edited through the main resource).
 */
export function statusStrategy(main: Strategy): Strategy {
  return {
    ...main,
    allowCreateOnUpdate: false,
    prepareForCreate() {
      throw new Error('status subresource cannot create');
    },
    prepareForUpdate(obj, old) {
      const status = obj.status;
      for (const key of Object.keys(obj)) if (key !== 'apiVersion' && key !== 'kind') delete obj[key];
      Object.assign(obj, structuredClone(old));
      if (status === undefined) delete obj.status;
      else obj.status = status;
    },
    validateUpdate(obj, old) {
      return validateObjectMetaUpdate(obj.metadata, old.metadata);
    },
    warningsOnUpdate() {
      return [];
    },
  };
}
