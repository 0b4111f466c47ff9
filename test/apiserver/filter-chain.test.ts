// The filter chain's plumbing (apiserver/filters/chain.ts) and the answers the filters remember:
// filters run in order, sync or async, the first to throw answers; one `close` runs every end;
// remembered request attributes and Accept negotiations equal the computed ones.
import test from 'ava';
import Fastify from 'fastify';
import { installFilters, requestEnds, type RequestFilter } from '../../apiserver/filters/chain.js';
import { decorateRequests } from '../../apiserver/filters/request-context.js';
import { RequestInfoResolver } from '../../apiserver/filters/request-info.js';
import { negotiate } from '../../apiserver/negotiation.js';
import { resolveRequestInfo } from '../../apiserver/request-info.js';
import { badRequest } from '../../apiserver/errors.js';
import { requestMetricsFilter } from '../../apiserver/filters/metrics.js';
import { requestInfoFilter } from '../../apiserver/filters/request-info.js';
import { Registry } from 'prom-client';

type Step = 'sync' | 'async' | 'throw' | 'reject';
const chains: Array<[string, Step[], { ran: number; code: number }]> = [
  ['all synchronous', ['sync', 'sync', 'sync'], { ran: 3, code: 200 }],
  ['an asynchronous filter in the middle', ['sync', 'async', 'sync'], { ran: 3, code: 200 }],
  ['asynchronous only', ['async', 'async'], { ran: 2, code: 200 }],
  ['a throwing filter stops the chain', ['sync', 'throw', 'sync'], { ran: 2, code: 400 }],
  ['a rejecting filter stops the chain', ['async', 'reject', 'sync'], { ran: 2, code: 400 }],
  ['a filter after an asynchronous one throws', ['async', 'throw'], { ran: 2, code: 400 }],
];
for (const [what, steps, expected] of chains) {
  test(`filter chain: ${what}`, async (t) => {
    const app = Fastify();
    decorateRequests(app);
    const ran: number[] = [];
    let ends = 0;
    const filters: RequestFilter[] = steps.map((step, i) => () => {
      ran.push(i);
      if (step === 'throw') throw badRequest('no');
      if (step === 'async') return new Promise<void>((resolve) => setImmediate(resolve));
      if (step === 'reject') return Promise.reject(badRequest('no'));
      return undefined;
    });
    installFilters(app, [requestEnds([() => ends++, () => ends++]), ...filters]);
    app.setErrorHandler((err: { status?: { code: number } }, _req, reply) => reply.code(err.status?.code ?? 500).send('error'));
    app.get('/x', async () => 'ok');
    const answer = await app.inject({ method: 'GET', url: '/x' });
    await app.close();
    t.is(answer.statusCode, expected.code);
    t.deepEqual(ran, steps.slice(0, expected.ran).map((_, i) => i), 'in order, none after the one that answered');
    t.is(ends, 2, 'every end ran once');
  });
}

test('remembered request attributes are the resolved ones, shared and read-only', (t) => {
  const resolver = new RequestInfoResolver();
  const urls = ['/apis/g/v1/namespaces/ns/things/a?resourceVersion=0', '/apis/g/v1/things?watch=true', '/apis', `/apis/g/v1/things/${'x'.repeat(600)}`];
  for (const method of ['GET', 'DELETE', 'PATCH']) {
    for (const url of urls) {
      const first = resolver.resolve(method, url);
      t.deepEqual(first, resolveRequestInfo(method, url), `${method} ${url.slice(0, 60)}`);
      t.deepEqual(resolver.resolve(method, url), first);
      if (url.length < 512) {
        t.is(resolver.resolve(method, url), first, 'the same object');
        t.true(Object.isFrozen(first));
      }
    }
  }
});

test('remembered Accept negotiations equal the first answer, and a 406 is answered every time', (t) => {
  const accepts = ['application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json', 'application/yaml', 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io', '*/*'];
  for (const list of [true, false]) {
    for (const accept of accepts) {
      let first;
      try {
        first = negotiate(accept, { list });
      } catch {
        t.throws(() => negotiate(accept, { list }), undefined, `${accept} (list ${list}) fails again`);
        continue;
      }
      t.deepEqual(negotiate(accept, { list }), first, `${accept} (list ${list})`);
    }
    for (let i = 0; i < 2; i++) t.throws(() => negotiate('application/vnd.kubernetes.protobuf', { list }), { message: /only the following media types are accepted|NotAcceptable|406|not acceptable/i });
  }
});

test('request counts that wait for a scrape are counted once each, equal to the duration samples', async (t) => {
  const registry = new Registry();
  const app = Fastify();
  decorateRequests(app);
  const metrics = requestMetricsFilter(registry);
  installFilters(app, [requestInfoFilter(), requestEnds([metrics.end]), metrics.filter]);
  app.get('/apis/g/v1/namespaces/ns/things/:name', async () => 'ok');
  app.patch('/apis/g/v1/namespaces/ns/things/:name', async () => 'ok');
  const total = async (verb: string) => {
    const counter = (await registry.getSingleMetric('apiserver_request_total')!.get()).values.filter((v) => v.labels.verb === verb);
    const durations = (await registry.getSingleMetric('apiserver_request_duration_seconds')!.get()).values.filter((v) => v.labels.verb === verb && (v as { metricName?: string }).metricName === 'apiserver_request_duration_seconds_count');
    return [counter.reduce((sum, v) => sum + v.value, 0), durations.reduce((sum, v) => sum + v.value, 0)];
  };
  for (const [round, requests] of [['first', 5], ['second', 7]] as const) {
    for (let i = 0; i < requests; i++) {
      await app.inject({ method: 'GET', url: `/apis/g/v1/namespaces/ns/things/${i % 2 ? 'a' : 'b'}` });
      await app.inject({ method: 'PATCH', url: '/apis/g/v1/namespaces/ns/things/a', headers: { 'content-type': 'application/merge-patch+json' }, payload: '{}' });
    }
    const expected = round === 'first' ? 5 : 12;
    t.deepEqual(await total('GET'), [expected, expected], `GET after the ${round} round`);
    t.deepEqual(await total('PATCH'), [expected, expected], `PATCH after the ${round} round`);
    t.deepEqual(await total('GET'), [expected, expected], 'a second scrape counts nothing twice');
  }
  const inflight = (await registry.getSingleMetric('apiserver_current_inflight_requests')!.get()).values;
  t.deepEqual(inflight.map((v) => [v.labels.request_kind, v.value]).sort(), [['mutating', 0], ['readOnly', 0]]);
  await app.close();
});
