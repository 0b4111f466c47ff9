// A private etcd: one single-member server on free loopback ports, with its data in a temporary
// directory, killed with this process. The tests (test/helpers/etcd.ts, which adds `requireEtcd`)
// and the benchmarks (hack/bench) start theirs with `startEtcd()`.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface EtcdServer {
  /** Client URL for the etcd3 npm client: `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** The same server as a `--storage` URL: `etcd3://127.0.0.1:PORT`. */
  url: string;
  /** Kills the server and removes its data directory. */
  stop(): Promise<void>;
  /** SIGKILLs the server and keeps its data (for restart tests). */
  kill(): Promise<void>;
  /** Starts the server again on the same ports and data directory; resolves once it answers. */
  start(): Promise<void>;
  /**
   * SIGSTOPs the server: connections stay open but nothing answers (a hung etcd). Resolves once
   * every thread of it is stopped (read from /proc where there is one), so that a request sent
   * after it cannot still be answered.
   */
  pause(): Promise<void>;
  /** SIGCONTs a paused server. */
  resume(): void;
}

const ETCD_BINARY = 'etcd';
const READY_TIMEOUT_MS = 20_000;

/**
 * Runs beside each etcd: once the test process ($1) is gone without cleaning up (SIGKILL, or the
 * SIGTERM ava sends a timed-out worker, neither of which runs 'exit' handlers), it kills etcd ($2)
 * and removes its directory ($3).
 */
const WATCHDOG_SCRIPT = `
while kill -0 "$1" 2>/dev/null; do sleep 1; done
kill -9 "$2" 2>/dev/null
rm -rf "$3"
shift 3
rm -f "$@"
`;

/** True when an `etcd` executable is on PATH. */
export function etcdAvailable(): boolean {
  return findOnPath(ETCD_BINARY) !== undefined;
}

/**
 * Why etcd tests cannot run here, or `undefined` when they can. On CI (`CI` set) a missing etcd
 * is an error, not a skip: CI must install it (see `hack/test.sh`).
 */
export function etcdUnavailableReason(): { skip: string } | { fail: string } | undefined {
  if (etcdAvailable()) return undefined;
  if (process.env.CI) return { fail: '`etcd` is not on PATH; CI must install it (Debian: etcd-server)' };
  return { skip: '`etcd` is not on PATH; skipping etcd tests (Debian: apt-get install etcd-server)' };
}

/** Every server this process started and has not stopped, killed on exit so none is orphaned. */
const running = new Set<RunningEtcd>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const server of running) server.killNow({ removeData: true });
  });
}

export async function startEtcd(): Promise<EtcdServer> {
  installExitHandler();
  const { server, clientPort } = await startOnFreePorts();
  return {
    endpoint: `http://127.0.0.1:${clientPort}`,
    url: `etcd3://127.0.0.1:${clientPort}`,
    stop: () => server.stop(),
    kill: () => server.kill(),
    start: () => server.start(),
    pause: async () => {
      server.signal('SIGSTOP');
      await server.untilStopped();
    },
    resume: () => server.signal('SIGCONT'),
  };
}

/**
 * Another process can take a free port before etcd binds it; then etcd exits at startup and
 * another pair of ports is tried.
 */
async function startOnFreePorts(attempts = 3): Promise<{ server: RunningEtcd; clientPort: number }> {
  for (let attempt = 1; ; attempt++) {
    const root = mkdtempSync(join(tmpdir(), 'etcd-test-'));
    const [clientPort, peerPort] = await claimFreePorts(2);
    const server = new RunningEtcd(root, clientPort, peerPort);
    running.add(server);
    try {
      await server.start();
      return { server, clientPort };
    } catch (err) {
      await server.stop();
      if (attempt >= attempts) throw err;
    }
  }
}

class RunningEtcd {
  private child: ChildProcess | undefined;
  /** Kills etcd if this (test) process dies without running its exit handlers (SIGKILL, ava timeout). */
  private watchdog: ChildProcess | undefined;
  private readonly dataDir: string;
  private readonly logFile: string;

  constructor(
    private readonly root: string,
    private readonly clientPort: number,
    private readonly peerPort: number,
  ) {
    this.dataDir = join(root, 'data');
    this.logFile = join(root, 'etcd.log');
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('etcd is already running');
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    const client = `http://127.0.0.1:${this.clientPort}`;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const log = openSync(this.logFile, 'a');
    // ETCD_* variables from the environment would override the flags below; drop them, except the
    // one etcd 3.4 insists on before it runs on arm64.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ETCD_')));
    if (process.arch === 'arm64') env.ETCD_UNSUPPORTED_ARCH = 'arm64';
    const child = spawn(
      ETCD_BINARY,
      [
        '--name=test',
        `--data-dir=${this.dataDir}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=test=${peer}`,
        '--initial-cluster-state=new',
        '--logger=zap',
        '--log-outputs=stderr',
        '--log-level=warn',
      ],
      { stdio: ['ignore', log, log], env },
    );
    closeSync(log);
    this.child = child;
    const exited = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) =>
        reject(new Error(`etcd exited during startup (${signal ?? `code ${code}`}):\n${this.logTail()}`)),
      );
    });
    const watchdogArgs = [String(process.pid), String(child.pid), this.root, ...this.claimFiles()];
    const watchdog = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'etcd-watchdog', ...watchdogArgs], {
      stdio: 'ignore',
      detached: true,
    });
    watchdog.unref();
    this.watchdog = watchdog;
    child.once('exit', () => {
      // etcd is gone (killed by us, or it crashed): its watchdog has nothing left to guard.
      watchdog.kill('SIGKILL');
      if (this.child === child) this.child = undefined;
      if (this.watchdog === watchdog) this.watchdog = undefined;
    });
    try {
      await Promise.race([waitUntilHealthy(client, READY_TIMEOUT_MS), exited]);
    } catch (err) {
      this.killNow({ removeData: false });
      throw err;
    } finally {
      exited.catch(() => undefined);
    }
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.killNow({ removeData: false });
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }

  async stop(): Promise<void> {
    await this.kill();
    running.delete(this);
    rmSync(this.root, { recursive: true, force: true });
    this.releasePorts();
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.child) throw new Error('etcd is not running');
    this.child.kill(signal);
  }

  /** Waits until every thread of the running etcd shows the stopped state (`T`) in /proc; at once where /proc has no such entries. */
  async untilStopped(timeoutMs = 10_000): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error('etcd is not running');
    const tasks = `/proc/${pid}/task`;
    if (!existsSync(tasks)) return;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (threadStates(tasks).every((state) => state === 'T' || state === 't')) return;
      if (Date.now() > deadline) throw new Error(`etcd (pid ${pid}) did not stop within ${timeoutMs} ms of SIGSTOP`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Synchronous, so it also works inside a process 'exit' handler. */
  killNow(options: { removeData: boolean }): void {
    this.watchdog?.kill('SIGKILL');
    this.watchdog = undefined;
    this.child?.kill('SIGKILL');
    this.child = undefined;
    if (options.removeData) {
      rmSync(this.root, { recursive: true, force: true });
      this.releasePorts();
    }
  }

  private claimFiles(): string[] {
    return [this.clientPort, this.peerPort].map(claimFile);
  }

  private releasePorts(): void {
    for (const file of this.claimFiles()) rmSync(file, { force: true });
  }

  private logTail(): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** Polls etcd's `/health` until it reports healthy (it has a leader and serves requests). */
async function waitUntilHealthy(clientUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await isHealthy(`${clientUrl}/health`)) return;
    if (Date.now() > deadline) throw new Error(`etcd at ${clientUrl} did not become healthy within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function isHealthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpGet(url, { timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve(res.statusCode === 200 && /"health"\s*:\s*"true"/.test(body)));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/**
 * Ports claimed by the test processes of this machine: one file per port, holding the claimant's
 * pid, kept until its etcd is stopped. While a test has its etcd killed (between `kill()` and
 * `start()`), the kernel may hand that port to another process; without the claim, another test's
 * etcd could start there and answer this test's client as if its own etcd had come back.
 */
const CLAIMS_DIR = join(tmpdir(), 'etcd-test-ports');

function claimFile(port: number): string {
  return join(CLAIMS_DIR, String(port));
}

/** True when this process now holds the claim on `port`; a claim whose process is gone is taken over. */
function claimPort(port: number): boolean {
  mkdirSync(CLAIMS_DIR, { recursive: true });
  const file = claimFile(port);
  const tryClaim = () => {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  };
  if (tryClaim()) return true;
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch {
    return tryClaim(); // released meanwhile
  }
  if (content === '') return false; // a claim being written right now
  const owner = Number(content);
  if (Number.isInteger(owner) && owner > 0 && processExists(owner)) return false;
  rmSync(file, { force: true }); // its process is gone
  return tryClaim();
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `count` distinct free ports, each claimed for this process (see CLAIMS_DIR). */
async function claimFreePorts(count: number): Promise<number[]> {
  const claimed: number[] = [];
  for (let attempt = 0; claimed.length < count; attempt++) {
    if (attempt > 50) throw new Error('could not claim free ports for etcd');
    for (const port of await freePorts(count - claimed.length)) {
      if (!claimed.includes(port) && claimPort(port)) claimed.push(port);
    }
  }
  return claimed;
}

/** Ports the kernel hands out for 127.0.0.1, all held open at once so they are distinct. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      const server = createServer();
      return new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      });
    }),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('unexpected listen address');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function findOnPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, binary))) return join(dir, binary);
  }
  return undefined;
}

/** The state letter of every thread under `/proc/<pid>/task` (the field after the parenthesised command name). */
function threadStates(tasksDir: string): string[] {
  const states: string[] = [];
  for (const tid of readdirSync(tasksDir)) {
    try {
      const stat = readFileSync(join(tasksDir, tid, 'stat'), 'utf8');
      states.push(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return states;
}
