// Operator keys never reach a log line: the executor's whole life (create, configuration change,
// delete) with every log at trace level, captured from a child process (stand-in host cluster).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const KEY = 'bls-private-key-5e1d9c7a3b0f8e6d4c2a0b9f7e5d3c1a';

test('no operator key in the logs of the server, its controllers or the host cluster, at trace level (stand-in host cluster)', async (t) => {
  const script = fileURLToPath(new URL('./fixtures/executor-logs.js', import.meta.url));
  const child = spawn(process.execPath, [script, 'hxlogs', KEY], { env: { ...process.env, LOG_LEVEL: 'trace' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.is(code, 0, out.slice(-2000));
  // The capture works: the host's request log names the executor's objects.
  t.regex(out, /ex1-config/);
  t.regex(out, /statefulsets\/ex1/);
  for (const form of [KEY, Buffer.from(KEY).toString('base64')]) t.false(out.includes(form), 'no key material in the logs');
  t.false(out.includes('secrets/operator-keys'), 'the controller never reads the Secret');
});
