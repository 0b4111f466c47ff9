// The processes a benchmark measures: the API server (dist/apiserver/main.js, default flags unless
// a part adds some) and the bare-fastify baseline, each in its own process on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Endpoint } from '../../lib/https-client.js';
import { startServerProcess } from '../../lib/server-process.js';
import type { TlsClient } from './load.js';

export interface RunningProcess {
  url: string;
  tls: TlsClient;
  pid: number;
  stop(): Promise<void>;
}

export interface ApiServer extends RunningProcess {
  endpoint: Endpoint;
  certDir: string;
  /** Everything the server logged so far (warnings only, unless the part asked for more). */
  output(): string;
}

/**
 * Starts the API server with `args` (e.g. `--storage=etcd3://…`); its state (certificates,
 * sqlite file) lives in a fresh temporary directory removed on stop. Controllers are off unless
 * `args` turns them on, so nothing but the benchmark's own requests runs in the server.
 */
export async function startApiServer(args: string[] = [], options: { env?: Record<string, string> } = {}): Promise<ApiServer> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-server-'));
  const certDir = join(dir, 'certs');
  const hasStorage = args.some((a) => a.startsWith('--storage='));
  const proc = await startServerProcess(
    certDir,
    ['--controllers=', ...(hasStorage ? [] : [`--storage=sqlite://${join(dir, 'state.db')}`]), ...args],
    60_000,
    { env: options.env, keepOutputBytes: 64 * 1024 },
  );
  const stop = async () => {
    if (proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGTERM');
      const killer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
      await proc.exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    url: proc.endpoint.url,
    endpoint: proc.endpoint,
    tls: { ca: proc.endpoint.caPem, cert: proc.endpoint.clientCert?.cert, key: proc.endpoint.clientCert?.key },
    pid: proc.child.pid!,
    certDir,
    output: proc.output,
    stop,
  };
}

/** Bare fastify serving `body` for every GET and POST, with the API server's TLS setting (same certDir). */
export async function startBareFastify(server: ApiServer, body: string): Promise<RunningProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-fastify-'));
  const bodyFile = join(dir, 'body.json');
  writeFileSync(bodyFile, body);
  const script = new URL('../baselines/bare-fastify.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [script, server.certDir, bodyFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await waitForLine(child, /^listening (https:\/\/\S+)$/m, 30_000);
  return {
    url,
    tls: server.tls,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = pattern.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`exited (${signal ?? code}) before ${pattern}:\n${output}`));
    });
  });
}
