// Small helpers on plain JSON objects, shared by the harness and the cases.

/** Every object a test creates carries `TEST_LABEL=<test id>`, so all-namespace lists can be scoped to it. */
export const TEST_LABEL = 'conformance.test/id';


/** Reads a dotted path. */
export function getPath(obj: any, path: string): any {
  let cur = obj;
  for (const step of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[step];
  }
  return cur;
}

/** Sets a dotted path, creating objects on the way; `undefined` deletes the leaf. */
export function setPath(obj: any, path: string, value: unknown): void {
  const steps = path.split('.');
  let cur = obj;
  for (const step of steps.slice(0, -1)) {
    if (cur[step] === null || typeof cur[step] !== 'object') cur[step] = {};
    cur = cur[step];
  }
  const leaf = steps[steps.length - 1];
  if (value === undefined) delete cur[leaf];
  else cur[leaf] = structuredClone(value);
}

export function applyPaths(obj: any, values: Record<string, unknown>): any {
  for (const [path, value] of Object.entries(values)) setPath(obj, path, value);
  return obj;
}

/** `{a:{b:1}}` from `{'a.b': 1}`: a merge patch that sets the given paths. */
export function mergePatchOf(values: Record<string, unknown>): Record<string, unknown> {
  return applyPaths({}, values);
}

/** A JSON-patch pointer from a dotted path. */
export function pointer(path: string): string {
  return '/' + path.split('.').map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

export function names(items: Array<{ metadata: { name: string } }>): string[] {
  return items.map((i) => i.metadata.name).sort();
}

