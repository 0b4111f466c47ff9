// The JSON of watch-cache objects, kept for reuse: a cached object never changes (an update
// replaces it), so its encoding is valid as long as the object lives, and GETs and LISTs of the
// same objects need not run JSON.stringify over them again. Bounded in bytes: the newest
// encodings are kept up to `budgetBytes` (oldest dropped first), and an encoding never outlives
// its object (WeakMap), so the memory it takes stays within the budget whatever the cache holds.
import { isSharedCacheObject } from '../registry/cacher.js';

/** Default budget: a 10,000-object list of ~1 KB objects fits three times over. */
export const ENCODED_OBJECTS_BUDGET_BYTES = 32 * 1024 * 1024;

/**
 * Values derived from objects, kept while the object lives (WeakMap) and within a byte budget:
 * the newest are kept up to `budgetBytes` (as the caller sizes them), the oldest dropped first.
 */
export class BoundedWeakMemo<V> {
  private readonly values = new WeakMap<object, V>();
  /** Insertion order, for eviction; sizes alongside. */
  private refs: Array<WeakRef<object>> = [];
  private sizes: number[] = [];
  private head = 0;
  private bytes = 0;

  constructor(readonly budgetBytes: number) {}

  get(obj: object): V | undefined {
    return this.values.get(obj);
  }

  /** Remembers `value` for `obj` (nothing when it alone exceeds the budget). */
  set(obj: object, value: V, bytes: number): void {
    if (bytes > this.budgetBytes) return;
    this.values.set(obj, value);
    this.refs.push(new WeakRef(obj));
    this.sizes.push(bytes);
    this.bytes += bytes;
    while (this.bytes > this.budgetBytes && this.head < this.refs.length) {
      const oldest = this.refs[this.head].deref();
      if (oldest !== undefined) this.values.delete(oldest);
      this.bytes -= this.sizes[this.head];
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.refs.length) {
      this.refs = this.refs.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }

  /** Bytes held (an upper bound: values of objects that died count until evicted). */
  get heldBytes(): number {
    return this.bytes;
  }
}

export class EncodedObjects {
  private readonly memo: BoundedWeakMemo<string>;

  constructor(budgetBytes = ENCODED_OBJECTS_BUDGET_BYTES) {
    this.memo = new BoundedWeakMemo(budgetBytes);
  }

  /** `JSON.stringify(obj)`, from memory when `obj` is a cache object encoded before. */
  stringify(obj: object): string {
    if (!isSharedCacheObject(obj)) return JSON.stringify(obj);
    const known = this.memo.get(obj);
    if (known !== undefined) return known;
    const text = JSON.stringify(obj);
    this.memo.set(obj, text, text.length);
    return text;
  }

  /** Bytes held (an upper bound: encodings of objects that died count until evicted). */
  get heldBytes(): number {
    return this.memo.heldBytes;
  }
}

/** The process-wide memo (cache objects are shared by every server in the process). */
export const encodedObjects = new EncodedObjects();

/**
 * `JSON.stringify(body)` for a body whose last property is the array `key` (a list's `items`, a
 * Table's `rows`), with each element encoded through the memo (`stringifyNested`): the same
 * bytes, assembled.
 */
export function stringifyWithArray(body: Record<string, unknown>, key: string): string {
  const elements = body[key];
  const keys = Object.keys(body);
  if (!Array.isArray(elements) || keys[keys.length - 1] !== key) return JSON.stringify(body);
  const head = JSON.stringify({ ...body, [key]: [] });
  // `head` ends with `"<key>":[]}`: the elements go between the brackets. Every piece goes into
  // one flat array joined once (joining strings built by concatenation would flatten each first).
  const out: string[] = [head.slice(0, -2)];
  for (let i = 0; i < elements.length; i++) {
    if (i > 0) out.push(',');
    if (!appendNested(out, elements[i], 2)) out.push('null');
  }
  out.push(']}');
  return out.join('');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * Appends `JSON.stringify(value)` to `out`, cache objects (and their metadata) from the memo, also
 * within plain objects up to `depth` levels down (a Table row's `object.metadata`). False (nothing
 * appended) where JSON.stringify gives undefined (undefined, functions, symbols, such a toJSON).
 */
function appendNested(out: string[], value: unknown, depth: number): boolean {
  if (isPlainObject(value) && !isSharedCacheObject(value) && depth > 0) {
    out.push('{');
    let first = true;
    for (const key of Object.keys(value)) {
      const member = value[key];
      if (isPlainObject(member) && !isSharedCacheObject(member) && depth > 1) {
        out.push(first ? quotedKey(key) : `,${quotedKey(key)}`, ':');
        appendNested(out, member, depth - 1);
      } else {
        const text = leafText(member);
        if (text === undefined) continue; // JSON leaves the member out
        out.push(first ? quotedKey(key) : `,${quotedKey(key)}`, ':', text);
      }
      first = false;
    }
    out.push('}');
    return true;
  }
  const text = leafText(value);
  if (text === undefined) return false;
  out.push(text);
  return true;
}

/** `JSON.stringify(value)`, from the memo for a cache object. */
function leafText(value: unknown): string | undefined {
  return isPlainObject(value) && isSharedCacheObject(value) ? encodedObjects.stringify(value) : JSON.stringify(value);
}

/** JSON-quoted property names, remembered (a bounded set: the shapes of lists and Tables). */
const quotedKeys = new Map<string, string>();

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < 4096) quotedKeys.set(key, quoted);
  }
  return quoted;
}
