// What the RBAC tables range over: every resource, every subresource and every verb that exists,
// derived from the kind declarations plus the custom subresources of DESIGN.md, and the URL a
// client would use for each (resource, subresource, verb).
import type { KindDeclaration } from '../../registry/kind.js';
import { allKinds } from '../../registry/kinds.js';

/**
 * The custom subresources and their verbs (DESIGN.md's table), so the tables cover them even
 * where a kind does not declare them (yet); declared ones (`KindDeclaration.subresources`) are
 * added from the declarations.
 */
export const CUSTOM_SUBRESOURCES: Record<string, Record<string, string[]>> = {
  stormtopologies: { metrics: ['get'], promote: ['create'], rollback: ['create'], rebalance: ['create'] },
  pvcgroups: { expansions: ['get'], rebalance: ['create'] },
  performers: { connection: ['get'], promote: ['create'], rollback: ['create'] },
};

export const RESOURCE_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const STATUS_VERBS = ['get', 'update', 'patch'];

export interface AccessCase {
  decl: KindDeclaration;
  resource: string;
  subresource: string;
  verb: string;
  /** Whether the verb addresses one object (its name is in the URL). */
  item: boolean;
}

/** Every (resource, subresource, verb) the server has or will have. */
export function accessCases(kinds: KindDeclaration[] = allKinds): AccessCase[] {
  const cases: AccessCase[] = [];
  for (const decl of kinds) {
    const add = (subresource: string, verbs: string[]) => {
      for (const verb of verbs) {
        const item = subresource !== '' || !['list', 'watch', 'create', 'deletecollection'].includes(verb);
        cases.push({ decl, resource: decl.plural, subresource, verb, item });
      }
    };
    add('', RESOURCE_VERBS);
    if (decl.hasStatus !== false) add('status', STATUS_VERBS);
    if (decl.scale) add('scale', STATUS_VERBS);
    const declared = Object.fromEntries((decl.subresources ?? []).map((sub) => [sub.name, [sub.verb]]));
    for (const [sub, verbs] of Object.entries({ ...CUSTOM_SUBRESOURCES[decl.plural], ...declared })) add(sub, verbs);
  }
  return cases;
}

const METHOD: Record<string, string> = {
  get: 'GET',
  list: 'GET',
  watch: 'GET',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  deletecollection: 'DELETE',
};

/** The request a client makes for `c` on object `name` in `namespace` (cluster-scoped kinds ignore it). */
export function requestFor(c: AccessCase, namespace: string, name: string): { method: string; url: string } {
  const base = `/apis/${c.decl.group}/${c.decl.versions[0]}`;
  const collection = c.decl.namespaced ? `${base}/namespaces/${namespace}/${c.resource}` : `${base}/${c.resource}`;
  let url = c.item ? `${collection}/${name}` : collection;
  if (c.subresource) url += `/${c.subresource}`;
  if (c.verb === 'watch') url += '?watch=true';
  return { method: METHOD[c.verb], url };
}

export function describe(c: AccessCase): string {
  return `${c.verb} ${c.subresource ? `${c.resource}/${c.subresource}` : c.resource}`;
}
