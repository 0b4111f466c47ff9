// The server as a child process (`node dist/apiserver/main.js`, for SIGKILL and for measuring it
// apart from the load generator), shared by the benchmarks (hack/bench) and the reliability suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Endpoint } from './https-client.js';

/** The last `bytes` of a child's output (a server under load logs every request). */
function tail(text: string, bytes: number): string {
  return text.length > bytes ? text.slice(-bytes) : text;
}

export interface ServerProcess {
  endpoint: Endpoint;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

/**
 * Runs `node dist/apiserver/main.js` with `args` (plus a free loopback port and `certDir`) and
 * resolves once it logs `serving` with its URL; the client certificate is the local
 * system:masters user's from the cert dir.
 */
export async function startServerProcess(
  certDir: string,
  args: string[],
  timeoutMs = 30_000,
  options: { env?: Record<string, string>; keepOutputBytes?: number } = {},
): Promise<ServerProcess> {
  const keepTail = (text: string) => tail(text, options.keepOutputBytes ?? 256 * 1024);
  const main = new URL('../../apiserver/main.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [main, '--secure-port=0', '--bind-address=127.0.0.1', `--cert-dir=${certDir}`, `--write-kubeconfig=${join(certDir, 'kubeconfig')}`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info', ...options.env },
  });
  let output = '';
  let found = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not report its URL within ${timeoutMs} ms:\n${output.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output = keepTail(output + chunk.toString('utf8'));
      if (found) return;
      const match = /"url":"(https:\/\/[^"]+)"[^\n]*"msg":"serving"|"msg":"serving"[^\n]*"url":"(https:\/\/[^"]+)"/.exec(output);
      if (match) {
        found = true;
        clearTimeout(timer);
        resolve(match[1] ?? match[2]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output = keepTail(output + c.toString('utf8'))));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${signal ?? code}) before serving:\n${output.slice(-2000)}`));
    });
  });
  const endpoint: Endpoint = {
    url,
    caPem: readFileSync(join(certDir, 'ca.crt'), 'utf8'),
    clientCert: { cert: readFileSync(join(certDir, 'local-user.crt'), 'utf8'), key: readFileSync(join(certDir, 'local-user.key'), 'utf8') },
  };
  return { endpoint, child, output: () => output, exited };
}
