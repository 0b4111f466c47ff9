// Request bodies: JSON and YAML documents, with the duplicate keys that strict field validation
// must report (JSON.parse silently keeps the last one).
import { parseDocument } from 'yaml';
import { badRequest } from './errors.js';

export interface ParsedBody {
  value: unknown;
  /** Field paths that appear twice in one object, e.g. `spec.replicas`. */
  duplicates: string[];
}

/**
 * Deepest nesting of objects and arrays a body may have. Much deeper documents would overflow
 * the stack of the recursive code behind the decoder (validation, conversion, field sets) and
 * answer 500; no object of these kinds nests anywhere near this deep.
 */
export const MAX_BODY_DEPTH = 1_000;

export function parseJsonBody(raw: Buffer | string): ParsedBody {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`error decoding JSON body: ${(err as Error).message}`);
  }
  const keys = checkDepth(value, 'JSON');
  // JSON.parse keeps one of each repeated key: the text has more keys than the value exactly when
  // some object repeats one. Counting them is cheap; only then is the text scanned for the paths.
  const duplicates = value !== null && typeof value === 'object' && countKeys(text) !== keys ? findDuplicateKeys(text) : [];
  return { value, duplicates };
}

/** A JSON string token, with the `:` after it when it is a key. */
const STRING_TOKEN = /"[^"\\]*(?:\\.[^"\\]*)*"(\s*:)?/g;

/** The number of object keys in valid JSON text (every string token followed by `:`). */
function countKeys(text: string): number {
  STRING_TOKEN.lastIndex = 0;
  let keys = 0;
  for (let match = STRING_TOKEN.exec(text); match !== null; match = STRING_TOKEN.exec(text)) if (match[1] !== undefined) keys++;
  return keys;
}

export function parseYamlBody(raw: Buffer | string): ParsedBody {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const duplicates: string[] = [];
  let value: unknown;
  try {
    const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
    if (doc.errors.length > 0) throw badRequest(`error decoding YAML body: ${doc.errors[0].message}`);
    value = doc.toJS({ maxAliasCount: 100 });
    checkDepth(value, 'YAML');
    collectYamlDuplicates(doc.contents, '', duplicates);
  } catch (err) {
    // The YAML parser recurses per level: a deep enough document overflows its stack.
    if (err instanceof RangeError) throw badRequest(`error decoding YAML body: exceeded max depth of ${MAX_BODY_DEPTH}`);
    throw err;
  }
  return { value, duplicates };
}

/**
 * Rejects a document nested deeper than MAX_BODY_DEPTH (iteratively: no recursion on input).
 * Returns the number of object keys in the document.
 */
function checkDepth(value: unknown, format: string): number {
  const stack: Array<[unknown, number]> = [[value, 1]];
  let keys = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > MAX_BODY_DEPTH) throw badRequest(`error decoding ${format} body: exceeded max depth of ${MAX_BODY_DEPTH}`);
    const children = Object.values(node);
    if (!Array.isArray(node)) keys += children.length;
    for (const child of children) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return keys;
}

interface YamlNodeLike {
  items?: Array<{ key?: { value?: unknown } | null; value?: unknown } | unknown>;
}

function collectYamlDuplicates(node: unknown, path: string, out: string[]): void {
  const items = (node as YamlNodeLike | null)?.items;
  if (!Array.isArray(items)) return;
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const pair = item as { key?: { value?: unknown } | null; value?: unknown };
    if (pair && typeof pair === 'object' && 'key' in pair) {
      const key = String(pair.key?.value ?? pair.key);
      const childPath = path ? `${path}.${key}` : key;
      if (seen.has(key)) out.push(childPath);
      seen.add(key);
      collectYamlDuplicates(pair.value, childPath, out);
    } else {
      collectYamlDuplicates(item, `${path}[${index}]`, out);
    }
  });
}

/**
 * Scans valid JSON text and returns the paths of keys repeated within one object. Runs only on
 * text JSON.parse accepted, so it does not re-validate syntax.
 */
export function findDuplicateKeys(text: string): string[] {
  const out: string[] = [];
  type Frame = { kind: 'object'; path: string; keys: Set<string>; key?: string } | { kind: 'array'; path: string; index: number };
  const stack: Frame[] = [];
  let i = 0;
  const childPath = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    if (top.kind === 'array') return `${top.path}[${top.index}]`;
    return top.path ? `${top.path}.${top.key}` : (top.key ?? '');
  };
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      // A string directly followed by ':' inside an object is a key.
      let k = j + 1;
      while (k < text.length && /\s/.test(text[k])) k++;
      if (top?.kind === 'object' && text[k] === ':') {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) out.push(top.path ? `${top.path}.${key}` : key);
        top.keys.add(key);
        top.key = key;
        i = k + 1;
        continue;
      }
      i = j + 1;
      continue;
    }
    if (ch === '{') stack.push({ kind: 'object', path: childPath(), keys: new Set() });
    else if (ch === '[') stack.push({ kind: 'array', path: childPath(), index: 0 });
    else if (ch === '}' || ch === ']') stack.pop();
    else if (ch === ',') {
      const top = stack[stack.length - 1];
      if (top?.kind === 'array') top.index++;
    }
    i++;
  }
  return out;
}
