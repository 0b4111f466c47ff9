// The JSON of a `meta.k8s.io` Table of many objects, written straight into one string: the same
// bytes as `JSON.stringify(toTable(...))` (response.ts), without building the rows as objects
// first. Per watch-cache object (immutable, see registry/cacher.ts) the text of its cells that do
// not depend on the time is kept (`BoundedWeakMemo`), so a row costs the ages of its date
// columns, its PartialObjectMetadata (metadata JSON from `encodedObjects`) and a few
// concatenations. Columns this cannot reason about (a kind's own cell function, see
// `cellPlan` in registry/columns.ts) are computed for every row, as before.
import { cellPlan, type CellPlan } from '../registry/columns.js';
import { isSharedCacheObject } from '../registry/cacher.js';
import { convertToVersion } from '../registry/conversion.js';
import { humanAge, type KindDeclaration, type TableColumn } from '../registry/kind.js';
import type { KubeObject } from '../registry/meta.js';
import { BoundedWeakMemo, encodedObjects } from './encoded-objects.js';
import type { IncludeObject } from './response.js';

/**
 * Budget for the kept row texts: about the size of the metadata JSON per object (a 10,000-row
 * Table of ~1 KB objects fits three times over).
 */
export const ROW_TEXT_BUDGET_BYTES = 32 * 1024 * 1024;

/**
 * The text of one object's row, but for the cells computed per request (ages, unknown columns):
 * `parts[0] + cell(varying[0]) + parts[1] + … + cell(varying[n-1]) + end`. `parts[0]` starts with
 * `{"cells":[`, `end` is the rest up to and including `]`. For includeObject=Metadata (kubectl's
 * default) the whole row is kept too, as one flat string, with the per-request cells it was made
 * with: a request whose cells are the same (ages change at most once a second) writes it as it
 * is, else it is made again from its parts and its unchanged tail.
 */
interface RowText {
  columns: readonly TableColumn[];
  parts: string[];
  /** Indexes (in `columns`) of the cells computed per request. */
  varying: number[];
  end: string;
  /** The whole row for includeObject=Metadata (object shown as stored), made with `metadataRowCells`. */
  metadataRow: string;
  metadataRowCells: string[];
  /** Where, in `metadataRow`, `end` and the row's `object` begin. */
  tailStart: number;
}

const keptRows = new BoundedWeakMemo<RowText>(ROW_TEXT_BUDGET_BYTES);

/** A row's `object` for includeObject=Metadata, up to its metadata. */
const OBJECT_PARTIAL_METADATA_HEAD = ',"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1"';

/** The JSON text of a cell value, as JSON.stringify writes it inside the `cells` array. */
function cellText(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value) ?? 'null';
}

/** The rest of a row after its cells for includeObject=Metadata, for an object shown as it is stored. */
function metadataRowEnd(metadata: unknown): string {
  // Not through `encodedObjects`: the row text kept holds it already.
  const text = JSON.stringify(metadata) as string | undefined;
  return text === undefined ? `${OBJECT_PARTIAL_METADATA_HEAD}}}` : `${OBJECT_PARTIAL_METADATA_HEAD},"metadata":${text}}}`;
}

function rowTextOf(columns: readonly TableColumn[], plans: readonly CellPlan[], obj: KubeObject, now: Date, cells: readonly string[]): RowText {
  const parts: string[] = [];
  const varying: number[] = [];
  let text = '{"cells":[';
  for (let i = 0; i < columns.length; i++) {
    if (i > 0) text += ',';
    if (plans[i].kind === 'fixed') {
      text += cellText(columns[i].cell(obj, now));
    } else {
      parts.push(text);
      varying.push(i);
      text = '';
    }
  }
  const end = `${text}]`;
  const row: RowText = { columns, parts, varying, end, metadataRow: '', metadataRowCells: [], tailStart: 0 };
  remakeMetadataRow(row, cells, `${end}${metadataRowEnd(obj.metadata as unknown)}`);
  if (isSharedCacheObject(obj)) {
    let bytes = 64 + end.length + row.metadataRow.length;
    for (const part of parts) bytes += part.length + 16;
    keptRows.set(obj, row, bytes);
  }
  return row;
}

/** Makes `row.metadataRow` with `cells` (the per-request cells, in `varying` order) and `tail`. */
function remakeMetadataRow(row: RowText, cells: readonly string[], tail: string): void {
  const pieces: string[] = [];
  for (let k = 0; k < row.parts.length; k++) pieces.push(row.parts[k], cells[k]);
  pieces.push(tail);
  // One flat string (join copies): written later in one piece, and no longer holding the old row.
  row.metadataRow = pieces.join('');
  row.metadataRowCells = cells.slice(0, row.parts.length);
  row.tailStart = row.metadataRow.length - tail.length;
}

function sameCells(a: readonly string[], b: readonly string[], count: number): boolean {
  for (let k = 0; k < count; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** Encodes the rows of one Table; holds what is the same for all its rows (the time, the ages). */
class RowWriter {
  private readonly plans: CellPlan[];
  /** Indexes of the columns computed per request, and their cells for the row being written. */
  private readonly varying: number[] = [];
  private readonly cells: string[] = [];
  private readonly ages = new Map<string, string>();

  constructor(
    private readonly decl: KindDeclaration,
    private readonly now: Date,
    private readonly includeObject: IncludeObject,
    private readonly version: string | undefined,
  ) {
    this.plans = decl.columns.map(cellPlan);
    this.plans.forEach((plan, i) => {
      if (plan.kind !== 'fixed') this.varying.push(i);
    });
  }

  /** Appends the pieces of `obj`'s row to `out` (joined once by the caller). */
  row(obj: KubeObject, out: string[]): void {
    const columns = this.decl.columns;
    const cells = this.cells;
    for (let k = 0; k < this.varying.length; k++) cells[k] = this.varyingCell(this.varying[k], obj);
    let row = keptRows.get(obj);
    if (row === undefined || row.columns !== columns) row = rowTextOf(columns, this.plans, obj, this.now, cells);
    const { parts } = row;
    switch (this.includeObject) {
      case 'None':
        for (let k = 0; k < parts.length; k++) out.push(parts[k], cells[k]);
        out.push(row.end, '}');
        return;
      case 'Object':
        for (let k = 0; k < parts.length; k++) out.push(parts[k], cells[k]);
        out.push(row.end, ',"object":', encodedObjects.stringify(this.shown(obj)), '}');
        return;
      default: {
        const shown = this.shown(obj);
        if (shown === obj) {
          if (!sameCells(row.metadataRowCells, cells, parts.length)) remakeMetadataRow(row, cells, row.metadataRow.slice(row.tailStart));
          out.push(row.metadataRow);
          return;
        }
        for (let k = 0; k < parts.length; k++) out.push(parts[k], cells[k]);
        out.push(row.end, metadataRowEnd(shown.metadata as unknown));
      }
    }
  }

  private shown(obj: KubeObject): KubeObject {
    return this.version === undefined ? obj : convertToVersion(this.decl, obj, this.version);
  }

  private varyingCell(index: number, obj: KubeObject): string {
    const plan = this.plans[index];
    if (plan.kind !== 'age') return cellText(this.decl.columns[index].cell(obj, this.now));
    const since = plan.since(obj);
    if (typeof since !== 'string') return cellText(humanAge(since, this.now));
    let text = this.ages.get(since);
    if (text === undefined) {
      text = cellText(humanAge(since, this.now));
      this.ages.set(since, text);
    }
    return text;
  }
}

/**
 * `JSON.stringify(table)` where `table` is `head` (a Table body whose last property is `rows: []`)
 * with one row per object of `objects`, each as `toTable` builds it.
 */
export function encodeTableJson(
  head: Record<string, unknown>,
  decl: KindDeclaration,
  objects: readonly KubeObject[],
  options: { includeObject: IncludeObject; now: Date; version?: string },
): string {
  const headText = JSON.stringify(head);
  if (!headText.endsWith('"rows":[]}')) throw new Error('encodeTableJson: the head must end with rows: []');
  const writer = new RowWriter(decl, options.now, options.includeObject, options.version);
  const out: string[] = [headText.slice(0, -2)];
  for (let i = 0; i < objects.length; i++) {
    if (i > 0) out.push(',');
    writer.row(objects[i], out);
  }
  out.push(']}');
  return out.join('');
}
