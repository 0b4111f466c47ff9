// Running the real kubectl in tests: finding it (KUBECTL overrides the binary), and a runner bound
// to one server's kubeconfig with a private discovery cache and HOME, so tests never share state
// with each other or with the user's ~/.kube.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';

/** The kubectl on the PATH, or undefined; `KUBECTL` overrides the binary. */
export function findKubectl(): { bin: string; version: string } | undefined {
  const bin = process.env.KUBECTL ?? 'kubectl';
  try {
    const out = execFileSync(bin, ['version', '--client', '-o', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 });
    const version = (JSON.parse(out) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion ?? 'unknown';
    return { bin, version };
  } catch {
    return undefined;
  }
}

export interface KubectlRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to kubectl's stdin. */
  input?: string;
  env?: Record<string, string>;
}

export interface Kubectl {
  run(args: string[], options?: RunOptions): Promise<KubectlRun>;
  /** The whole argument list for `args` (for a long-running `spawn`, e.g. `get -w`). */
  argv(args: string[]): string[];
  /** Runs kubectl and fails the test with its stderr unless it exits 0; resolves with stdout. */
  ok(t: { fail(message: string): void }, args: string[], options?: RunOptions): Promise<string>;
}

/**
 * A kubectl bound to `server` (its kubeconfig, a discovery cache and HOME under its directory);
 * `defaultArgs` go before every command's own (e.g. `-n`, `ns`).
 */
export function kubectlFor(bin: string, server: { kubeconfigPath: string; dir: string }, defaultArgs: string[] = []): Kubectl {
  const cacheDir = mkdtempSync(join(server.dir, 'kube-cache-'));
  const argv = (args: string[]) => ['--kubeconfig', server.kubeconfigPath, '--cache-dir', cacheDir, ...defaultArgs, ...args];
  const run = (args: string[], options: RunOptions = {}) =>
    new Promise<KubectlRun>((resolve) => {
      const child = execFile(
        bin,
        argv(args),
        { timeout: 60_000, env: { ...process.env, HOME: server.dir, ...options.env } },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      if (options.input !== undefined) child.stdin?.end(options.input);
    });
  return {
    run,
    argv,
    async ok(t, args, options) {
      const r = await run(args, options);
      if (r.code !== 0) t.fail(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
  };
}

/** Rows of kubectl's table output, split on runs of 2+ spaces. */
export function rows(out: string): string[][] {
  return out
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
}
