// What the plugins print: `-o json` and `-o yaml` give the server's response as it came; the
// default is kubectl-style tables (upper-case headers, columns padded by three spaces, `<none>`
// for empty cells). Responses whose exact shape is not known here are shown generically: one row
// with the object's name and every scalar field of its `status` (nested objects flattened to
// `OUTER.INNER`), then one table per list of objects in `status`.
import { stringify } from 'yaml';
import { isRecord, UsageError } from './client.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

export function parseOutputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === '' || value === 'wide') return 'table';
  if (value === 'json' || value === 'yaml') return value;
  throw new UsageError(`unable to match a printer suitable for the output format "${value}", allowed formats are: json,yaml`);
}

export function formatRaw(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(value, null, 4)}\n` : stringify(value);
}

/** kubectl's tabwriter layout: left-aligned, three spaces between columns. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] + 3)))
      .join('')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** `numWorkers` → `NUM-WORKERS`; a path's segments are joined by `.`. */
export function columnName(path: string[]): string {
  return path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toUpperCase()).join('.');
}

export function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') return '<none>';
  if (Array.isArray(value)) return value.length === 0 ? '<none>' : value.map((v) => (isRecord(v) ? JSON.stringify(v) : String(v))).join(',');
  if (isRecord(value)) return JSON.stringify(value);
  return String(value);
}

type Leaf = { path: string[]; value: unknown };

/** Scalar leaves (and lists of scalars) of `obj`, nested objects flattened up to `depth` levels. */
function leaves(obj: Record<string, unknown>, depth: number, prefix: string[] = []): Leaf[] {
  const out: Leaf[] = [];
  for (const [key, value] of Object.entries(obj)) {
    if (isRecord(value)) {
      if (depth > 1) out.push(...leaves(value, depth - 1, [...prefix, key]));
    } else if (Array.isArray(value)) {
      if (!value.some(isRecord)) out.push({ path: [...prefix, key], value });
    } else {
      out.push({ path: [...prefix, key], value });
    }
  }
  return out;
}

/** Lists of objects anywhere in `obj` (up to `depth` levels), by path. */
function objectLists(obj: Record<string, unknown>, depth: number, prefix: string[] = []): Array<{ path: string[]; items: Record<string, unknown>[] }> {
  const out: Array<{ path: string[]; items: Record<string, unknown>[] }> = [];
  for (const [key, value] of Object.entries(obj)) {
    if (Array.isArray(value) && value.length > 0 && value.every(isRecord)) out.push({ path: [...prefix, key], items: value });
    else if (isRecord(value) && depth > 1) out.push(...objectLists(value, depth - 1, [...prefix, key]));
  }
  return out;
}

/** A table of objects with the union of their scalar fields as columns (first-seen order). */
export function formatObjects(items: Record<string, unknown>[], leading: Array<[string, (item: Record<string, unknown>) => unknown]> = []): string {
  const columns: string[][] = [];
  const seen = new Set<string>();
  for (const item of items) {
    for (const leaf of leaves(item, 2)) {
      const id = leaf.path.join('.');
      if (seen.has(id) || leading.some(([h]) => h === columnName(leaf.path))) continue;
      seen.add(id);
      columns.push(leaf.path);
    }
  }
  const headers = [...leading.map(([h]) => h), ...columns.map(columnName)];
  const rows = items.map((item) => [
    ...leading.map(([, get]) => cell(get(item))),
    ...columns.map((path) => cell(path.reduce<unknown>((v, k) => (isRecord(v) ? v[k] : undefined), item))),
  ]);
  return formatTable(headers, rows);
}

/** The generic view of a response object (see the header comment). */
export function formatResponse(response: Record<string, unknown>): string {
  const metadata = isRecord(response.metadata) ? response.metadata : {};
  const status = isRecord(response.status) ? response.status : {};
  const summary: Record<string, unknown> = { ...status };
  let text = formatObjects([summary], [['NAME', () => metadata.name]]);
  for (const list of objectLists(status, 2)) {
    text += `\n${columnName(list.path)}:\n${formatObjects(list.items)}`;
  }
  return text;
}
