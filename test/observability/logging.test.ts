// Structured logs: JSON lines carrying the request's audit ID, `--v` mapped to pino levels, and
// credentials redacted wherever a caller logs them.
import test from 'ava';
import Fastify from 'fastify';
import { Writable } from 'node:stream';
import { installRequestLogContext, levelForVerbosity, loggerOptions } from '../../apiserver/logging.js';
import { completeOptions, OptionsError } from '../../apiserver/options.js';
import { decorateRequests } from '../../apiserver/filters/request-context.js';

const verbosityCases: Array<[number, ReturnType<typeof levelForVerbosity>]> = [
  [0, 'info'],
  [2, 'info'],
  [4, 'debug'],
  [5, 'debug'],
  [6, 'trace'],
  [10, 'trace'],
];
for (const [verbosity, level] of verbosityCases) {
  test(`--v=${verbosity} logs at ${level}`, (t) => {
    t.is(levelForVerbosity(verbosity), level);
    t.is(loggerOptions(verbosity, {}).level, level);
  });
}

test('LOG_LEVEL overrides --v', (t) => {
  t.is(loggerOptions(6, { LOG_LEVEL: 'silent' }).level, 'silent');
});

test('--v is parsed into the completed options and rejects non-integers', (t) => {
  t.is(completeOptions({ v: '4' }).logVerbosity, 4);
  t.is(completeOptions({}).logVerbosity, 0);
  t.throws(() => completeOptions({ v: 'loud' }), { instanceOf: OptionsError, message: /--v=loud/ });
});

test('request log lines are JSON with the audit ID, and secret values are redacted', async (t) => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const app = Fastify({ logger: { ...loggerOptions(0, {}), stream } });
  decorateRequests(app);
  app.addHook('onRequest', async (req) => {
    req.auditID = 'audit-1234';
  });
  installRequestLogContext(app);
  app.get('/log', async (req) => {
    req.log.info(
      { headers: { authorization: 'Bearer s3cr3t-token' }, token: 's3cr3t-token', spec: { operatorKey: '0xs3cr3t', name: 'visible' } },
      'handling',
    );
    return 'ok';
  });
  await app.inject({ method: 'GET', url: '/log' });
  await app.close();
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const handling = records.find((r) => r.msg === 'handling');
  t.truthy(handling);
  t.is(handling!.auditID, 'audit-1234');
  t.is(typeof handling!.time, 'number');
  t.is(handling!.level, 30);
  t.is((handling!.headers as Record<string, string>).authorization, '[REDACTED]');
  t.is(handling!.token, '[REDACTED]');
  t.deepEqual(handling!.spec, { operatorKey: '[REDACTED]', name: 'visible' });
  t.false(lines.join('\n').includes('s3cr3t'));
  const completed = records.find((r) => r.msg === 'request completed');
  t.is(completed?.auditID, 'audit-1234');
});
