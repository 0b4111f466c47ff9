// Building blocks for the kinds' printer columns (registry/<group>/<kind>/table.ts).
import { fieldAt, humanAge, type ColumnType, type TableColumn } from './kind.js';
import type { KubeObject } from './meta.js';

/**
 * How a column's cell depends on the time of the request, for encoders that keep cells of
 * (immutable) watch-cache objects across requests (`apiserver/table-encoding.ts`):
 * - `fixed`: `cell(obj, now)` depends on `obj` alone;
 * - `age`: `cell(obj, now)` is `humanAge(since(obj), now)`;
 * - `unknown`: anything else (a kind's own cell function): computed for every row.
 */
export type CellPlan = { kind: 'fixed' } | { kind: 'age'; since: (obj: KubeObject) => string | undefined } | { kind: 'unknown' };

const FIXED: CellPlan = { kind: 'fixed' };
const UNKNOWN: CellPlan = { kind: 'unknown' };
const plans = new WeakMap<TableColumn, CellPlan>();

/** The plan of a column built here; `unknown` for any other column (also copies of these). */
export function cellPlan(column: TableColumn): CellPlan {
  return plans.get(column) ?? UNKNOWN;
}

function planned(column: TableColumn, plan: CellPlan): TableColumn {
  plans.set(column, plan);
  return column;
}

/** The first column of every table: the object's name. */
export const nameColumn: TableColumn = planned(
  {
    name: 'Name',
    type: 'string',
    format: 'name',
    description: 'Name must be unique within a namespace. Cannot be updated.',
    priority: 0,
    cell: (obj) => obj.metadata.name,
  },
  FIXED,
);

/** `Age`, from metadata.creationTimestamp, printed as kubectl does (`5m`, `3d`). */
export const ageColumn: TableColumn = planned(
  {
    name: 'Age',
    type: 'date',
    format: 'date',
    description:
      'CreationTimestamp is a timestamp representing the server time when this object was created, printed as the time since then.',
    priority: 0,
    cell: (obj, now) => humanAge(obj.metadata.creationTimestamp, now),
  },
  { kind: 'age', since: (obj) => obj.metadata.creationTimestamp },
);

/**
 * A column that prints the value at a dotted path (`status.phase`). Values of the wrong type print
 * as empty rather than as garbage; `date` columns print the time since the timestamp.
 */
export function pathColumn(name: string, type: ColumnType, path: string, description: string, priority: 0 | 1 = 0): TableColumn {
  const steps = path.split('.'); // once, not per row
  const plan: CellPlan =
    type === 'date'
      ? {
          kind: 'age',
          since: (obj) => {
            const v = valueAt(obj, steps);
            return typeof v === 'string' ? v : undefined;
          },
        }
      : FIXED;
  return planned({
    name,
    type,
    ...(type === 'date' ? { format: 'date' } : {}),
    description,
    priority,
    cell(obj: KubeObject, now: Date) {
      const v = valueAt(obj, steps);
      switch (type) {
        case 'integer':
          return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
        case 'number':
          return typeof v === 'number' ? v : undefined;
        case 'boolean':
          return typeof v === 'boolean' ? v : undefined;
        case 'date':
          return typeof v === 'string' ? humanAge(v, now) : undefined;
        default:
          if (typeof v === 'string') return v === '' ? undefined : v;
          if (typeof v === 'number' || typeof v === 'boolean') return String(v);
          return undefined;
      }
    },
  }, plan);
}

/** `fieldAt` with the path already split. */
function valueAt(obj: unknown, steps: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const step of steps) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[step];
  }
  return cur;
}

/**
 * Field-selector accessors (`KindDeclaration.selectableFields`) for dotted paths: strings as they
 * are, numbers and booleans as text, anything else (absent, objects) as undefined.
 */
export function selectableFields(...paths: string[]): Record<string, (obj: KubeObject) => string | undefined> {
  const out: Record<string, (obj: KubeObject) => string | undefined> = {};
  for (const path of paths) {
    out[path] = (obj) => {
      const v = fieldAt(obj, path);
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      return undefined;
    };
  }
  return out;
}
