// Every resource × every subresource × every verb that exists, for each persona, from the URL a
// client sends (request-info) to the RBAC decision of the standalone authorizer chain. Each case
// asserts the exact allow or deny against an independent statement of what the persona may do.
import test from 'ava';
import { AlwaysAllowAuthorizer } from '../../apiserver/authz/always-allow.js';
import { attributesOf, AuthorizerChain } from '../../apiserver/authz/authorizer.js';
import { RbacAuthorizer } from '../../apiserver/authz/rbac.js';
import { parseRbacPolicy } from '../../apiserver/authz/rbac-policy-file.js';
import { resolveRequestInfo } from '../../apiserver/request-info.js';
import { accessCases, describe, requestFor } from './fixtures.js';
import { personas, testPolicyText, USERS, type Where } from './policy.js';

const policy = parseRbacPolicy(testPolicyText(), 'test policy');
const authorizer = new AuthorizerChain([new AlwaysAllowAuthorizer(), new RbacAuthorizer(() => policy)]);

const places: Where[] = [
  { namespace: 'storm-prod', name: 'wordcount' },
  { namespace: 'storm-prod', name: 'other' },
  { namespace: 'storm-dev', name: 'wordcount' },
  { namespace: '', name: '' },
];

for (const persona of personas) {
  test(`RBAC table: ${persona.title}`, async (t) => {
    const mismatches: string[] = [];
    let allowed = 0;
    let denied = 0;
    for (const c of accessCases()) {
      for (const where of places) {
        if (where.namespace === '' && !(c.verb === 'list' || c.verb === 'watch')) continue;
        const { method, url } = requestFor(c, where.namespace, where.name);
        const info = resolveRequestInfo(method, url.replace('/namespaces//', '/'));
        if (info.verb !== c.verb || info.subresource !== c.subresource || info.resource !== c.resource) {
          mismatches.push(`${method} ${url}: request-info gave ${info.verb} ${info.resource}/${info.subresource}`);
          continue;
        }
        const expected = persona.allowed(c, where);
        const result = await authorizer.authorize(attributesOf(persona.user, info));
        const actual = result.decision === 'allow';
        if (actual !== expected) mismatches.push(`${describe(c)} in ${where.namespace || '(all)'} name=${where.name}: ${actual ? 'allowed' : 'denied'}, expected ${expected ? 'allowed' : 'denied'}`);
        if (actual) allowed++;
        else denied++;
      }
    }
    t.deepEqual(mismatches, []);
    t.true(denied > 0, 'every persona is denied something');
    if (persona.user !== USERS.nobody) t.true(allowed > 0, 'the persona is allowed something');
    t.log(`${allowed} allowed, ${denied} denied`);
  });
}

test('every resource × subresource × verb is in the table (seven kinds, status everywhere, scale where declared, the custom verbs)', (t) => {
  const cases = accessCases();
  const combos = new Set(cases.map((c) => `${c.resource}/${c.subresource}:${c.verb}`));
  t.is(combos.size, cases.length);
  t.true(combos.has('stormworkerpools/scale:patch'));
  t.true(combos.has('hourglassexecutors/scale:get'));
  t.false(combos.has('stormtopologies/scale:get'));
  t.true(combos.has('stormtopologies/rebalance:create'));
  t.true(combos.has('performers/connection:get'));
  t.is(cases.filter((c) => c.subresource === 'status').length, 7 * 3);
});

test('a list narrowed by fieldSelector=metadata.name is allowed by resourceNames; other names are not', async (t) => {
  const base = '/apis/storm.apache.org/v1beta1/namespaces/storm-prod/stormtopologies';
  const decide = async (url: string) => (await authorizer.authorize(attributesOf(USERS.namesLimited, resolveRequestInfo('GET', url)))).decision;
  t.is(await decide(`${base}?fieldSelector=metadata.name%3Dwordcount`), 'allow');
  t.is(await decide(`${base}?watch=true&fieldSelector=metadata.name%3Dwordcount`), 'allow');
  t.is(await decide(`${base}?fieldSelector=metadata.name%3Dother`), 'no-opinion');
  t.is(await decide(base), 'no-opinion');
});
