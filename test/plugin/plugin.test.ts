// The kubectl plugins end to end against the standalone server: the installed executables
// (`bin/kubectl-storm`, …) run as child processes with the server's kubeconfig, `-n`, `--context`,
// `-o json|yaml`, tables, the server's Status message on failure, and shell completion; and
// through kubectl itself (`kubectl storm …`) when kubectl is installed.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { httpsRequest, startTestServer, type TestServer } from '../helpers/server.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin');
const KUBECTL = '/usr/bin/kubectl';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** At most this many plugin processes at once (each loads client-node; the machine is small). */
const MAX_CHILDREN = 3;
let running = 0;
const waiting: Array<() => void> = [];

async function run(executable: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  // A finishing run hands its slot straight to the next waiter.
  if (running >= MAX_CHILDREN) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await runChild(executable, args, env);
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

function runChild(executable: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const file = executable === 'kubectl' ? KUBECTL : process.execPath;
  const argv = executable === 'kubectl' ? args : [join(BIN, executable), ...args];
  return new Promise((resolve) => {
    execFile(file, argv, { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const TOPOLOGIES = '/apis/storm.apache.org/v1beta1/namespaces/storm/stormtopologies';

let server: TestServer;
/** A kubeconfig whose current context points at a closed port; `operators-local` is the real one. */
let multiContextKubeconfig: string;
/** A kubeconfig whose only context has namespace `storm`. */
let namespacedKubeconfig: string;

test.before(async () => {
  // No controllers: the test writes the topology's status itself.
  server = await startTestServer({}, { extensions: { controllers: [] } });
  const example = parse(readFileSync(join(ROOT, 'deploy/examples/stormtopology.yaml'), 'utf8')) as {
    spec: { topology: unknown };
    metadata: Record<string, unknown>;
  };
  const created = await httpsRequest(server, 'POST', TOPOLOGIES, {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(example),
  });
  if (created.status !== 201) throw new Error(`create: ${created.status} ${created.body}`);
  const topology = JSON.parse(created.body) as Record<string, unknown>;
  topology.status = {
    currentRevision: 2,
    history: [
      { revision: 1, version: '1.3.0', topology: example.spec.topology, topologyId: 'wordcount-1-1700000000', color: 'blue', cause: 'Created', deployedAt: '2026-11-01T10:00:00Z' },
      { revision: 2, version: '1.4.0', topology: example.spec.topology, topologyId: 'wordcount-2-1700100000', color: 'green', cause: 'Promoted', deployedAt: '2026-11-02T10:00:00Z' },
    ],
  };
  const updated = await httpsRequest(server, 'PUT', `${TOPOLOGIES}/wordcount/status`, {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(topology),
  });
  if (updated.status !== 200) throw new Error(`status: ${updated.status} ${updated.body}`);

  const performer = await httpsRequest(server, 'POST', '/apis/hourglass.eigenlayer.io/v1alpha1/namespaces/hourglass-performers/performers', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(parse(readFileSync(join(ROOT, 'deploy/examples/performer.yaml'), 'utf8'))),
  });
  if (performer.status !== 201) throw new Error(`create performer: ${performer.status} ${performer.body}`);

  const config = parse(readFileSync(server.kubeconfigPath, 'utf8')) as {
    clusters: Array<{ name: string; cluster: Record<string, string> }>;
    contexts: Array<{ name: string; context: Record<string, string> }>;
    'current-context': string;
  };
  multiContextKubeconfig = join(server.dir, 'multi-context.kubeconfig');
  writeFileSync(
    multiContextKubeconfig,
    stringify({
      ...config,
      clusters: [...config.clusters, { name: 'unreachable', cluster: { ...config.clusters[0].cluster, server: 'https://127.0.0.1:1' } }],
      contexts: [...config.contexts, { name: 'unreachable', context: { cluster: 'unreachable', user: 'operators-local' } }],
      'current-context': 'unreachable',
    }),
  );
  namespacedKubeconfig = join(server.dir, 'namespaced.kubeconfig');
  writeFileSync(
    namespacedKubeconfig,
    stringify({ ...config, contexts: config.contexts.map((c) => ({ ...c, context: { ...c.context, namespace: 'storm' } })) }),
  );
});
test.after.always(async () => {
  await server?.stop();
});

function kubeconfigFlag(): string {
  return `--kubeconfig=${server.kubeconfigPath}`;
}

test('storm history prints the revisions as a table, the current one marked', async (t) => {
  const r = await run('kubectl-storm', ['history', 'wordcount', '-n', 'storm', kubeconfigFlag()]);
  t.is(r.code, 0, r.stderr);
  const [header, ...rows] = r.stdout.trimEnd().split('\n');
  t.deepEqual(header.split(/\s{3,}/), ['REVISION', 'VERSION', 'CAUSE', 'COLOR', 'TOPOLOGY-ID', 'DEPLOYED-AT', 'CURRENT']);
  t.deepEqual(
    rows.map((row) => row.split(/\s{3,}/)),
    [
      ['1', '1.3.0', 'Created', 'blue', 'wordcount-1-1700000000', '2026-11-01T10:00:00Z'],
      ['2', '1.4.0', 'Promoted', 'green', 'wordcount-2-1700100000', '2026-11-02T10:00:00Z', '*'],
    ],
  );
});

test('performer connection prints the computed read as a table, and as the server sent it with -o json', async (t) => {
  const direct = await httpsRequest(server, 'GET', '/apis/hourglass.eigenlayer.io/v1alpha1/namespaces/hourglass-performers/performers/hello-avs/connection');
  t.is(direct.status, 200, direct.body);
  const expected = JSON.parse(direct.body) as { kind: string; metadata: { name: string } };
  const json = await run('kubectl-performer', ['connection', 'hello-avs', '-n', 'hourglass-performers', '-o', 'json', kubeconfigFlag()]);
  t.is(json.code, 0, json.stderr);
  const printed = JSON.parse(json.stdout) as { kind: string; apiVersion: string; metadata: { name: string } };
  t.is(printed.kind, expected.kind);
  t.is(printed.apiVersion, 'hourglass.eigenlayer.io/v1alpha1');
  t.is(printed.metadata.name, 'hello-avs');
  const table = await run('kubectl-performer', ['connection', 'hello-avs', '-n', 'hourglass-performers', kubeconfigFlag()]);
  t.is(table.code, 0, table.stderr);
  const [header, row] = table.stdout.split('\n');
  t.regex(header, /^NAME {3}/);
  t.regex(row, /^hello-avs {3}/);
});

const rawOutputCases: Array<[string, (text: string) => unknown]> = [
  ['json', (text) => JSON.parse(text)],
  ['yaml', (text) => parse(text)],
];
for (const [format, decode] of rawOutputCases) {
  test(`storm history -o ${format} prints the history as ${format}`, async (t) => {
    const r = await run('kubectl-storm', ['history', 'wordcount', '--namespace=storm', '-o', format, kubeconfigFlag()]);
    t.is(r.code, 0, r.stderr);
    const out = decode(r.stdout) as { currentRevision: number; history: Array<{ revision: number; version: string }> };
    t.is(out.currentRevision, 2);
    t.deepEqual(out.history.map((h) => [h.revision, h.version]), [[1, '1.3.0'], [2, '1.4.0']]);
  });
}

test('the kubeconfig comes from $KUBECONFIG and the namespace from the context when not given', async (t) => {
  const r = await run('kubectl-storm', ['history', 'wordcount'], { KUBECONFIG: namespacedKubeconfig });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^REVISION/);
});

test('--context picks the context; the unreachable current context fails with kubectl\'s message', async (t) => {
  const good = await run('kubectl-storm', ['history', 'wordcount', '-n', 'storm', '--context', 'operators-local', `--kubeconfig=${multiContextKubeconfig}`]);
  t.is(good.code, 0, good.stderr);
  const bad = await run('kubectl-storm', ['history', 'wordcount', '-n', 'storm', `--kubeconfig=${multiContextKubeconfig}`]);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^Unable to connect to the server: https:\/\/127\.0\.0\.1:1/);
  const missing = await run('kubectl-storm', ['history', 'wordcount', '--context', 'nope', `--kubeconfig=${multiContextKubeconfig}`]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /context was not found for specified context: nope/);
});

/**
 * Failures exit 1 with the server's own Status, as kubectl prints it; the expected message is
 * asked of the server directly with the same request the plugin is documented to send.
 */
const failureCases: Array<{ title: string; executable: string; args: string[]; method: string; path: string; body?: unknown }> = [
  {
    title: 'storm promote of a topology without a candidate',
    executable: 'kubectl-storm',
    args: ['promote', 'wordcount', '-n', 'storm'],
    method: 'POST',
    path: `${TOPOLOGIES}/wordcount/promote`,
    body: { apiVersion: 'storm.apache.org/v1beta1', kind: 'TopologyPromotion', spec: {} },
  },
  {
    title: 'storm history in a namespace without the topology',
    executable: 'kubectl-storm',
    args: ['history', 'wordcount', '-n', 'elsewhere'],
    method: 'GET',
    path: '/apis/storm.apache.org/v1beta1/namespaces/elsewhere/stormtopologies/wordcount',
  },
  {
    title: 'storm rollback of a missing topology',
    executable: 'kubectl-storm',
    args: ['rollback', 'missing', '-n', 'storm', '--to-revision=1'],
    method: 'POST',
    path: `${TOPOLOGIES}/missing/rollback`,
    body: { apiVersion: 'storm.apache.org/v1beta1', kind: 'TopologyRollback', spec: { revision: 1 } },
  },
  {
    title: 'storm metrics of a missing topology',
    executable: 'kubectl-storm',
    args: ['metrics', 'missing', '-n', 'storm', '--window=600'],
    method: 'GET',
    path: `${TOPOLOGIES}/missing/metrics?window=600`,
  },
  {
    title: 'pvcgroup expansions of a missing group',
    executable: 'kubectl-pvcgroup',
    args: ['expansions', 'missing', '-n', 'storm'],
    method: 'GET',
    path: '/apis/pvc-chonker.io/v1alpha1/namespaces/storm/pvcgroups/missing/expansions',
  },
  {
    title: 'pvcgroup rebalance --dry-run of a missing group',
    executable: 'kubectl-pvcgroup',
    args: ['rebalance', 'missing', '-n', 'storm', '--dry-run'],
    method: 'POST',
    path: '/apis/pvc-chonker.io/v1alpha1/namespaces/storm/pvcgroups/missing/rebalance?dryRun=All',
    body: { apiVersion: 'pvc-chonker.io/v1alpha1', kind: 'PVCGroupRebalance', spec: {} },
  },
  {
    title: 'performer connection of a missing performer',
    executable: 'kubectl-performer',
    args: ['connection', 'missing', '-n', 'storm'],
    method: 'GET',
    path: '/apis/hourglass.eigenlayer.io/v1alpha1/namespaces/storm/performers/missing/connection',
  },
  {
    title: 'performer promote of a missing performer',
    executable: 'kubectl-performer',
    args: ['promote', 'missing', '-n', 'storm'],
    method: 'POST',
    path: '/apis/hourglass.eigenlayer.io/v1alpha1/namespaces/storm/performers/missing/promote',
    body: { apiVersion: 'hourglass.eigenlayer.io/v1alpha1', kind: 'PerformerPromotion', spec: {} },
  },
];
for (const c of failureCases) {
  test(`${c.title} exits 1 with the server's Status message`, async (t) => {
    const direct = await httpsRequest(server, c.method, c.path, c.body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(c.body) });
    t.true(direct.status >= 400, `the server answered ${direct.status}`);
    const status = JSON.parse(direct.body) as { kind: string; reason: string; message: string };
    t.is(status.kind, 'Status');
    const r = await run(c.executable, [...c.args, kubeconfigFlag()]);
    t.is(r.code, 1);
    t.is(r.stderr, `Error from server (${status.reason}): ${status.message}\n`);
    t.is(r.stdout, '');
  });
}

const usageCases: Array<{ args: string[]; message: RegExp }> = [
  { args: ['promote'], message: /"kubectl storm promote" requires TOPOLOGY/ },
  { args: ['rollback', 'wordcount', '--to-revision=two'], message: /--to-revision=two: expected a non-negative integer/ },
  { args: ['rebalance', 'wordcount', '--executors=split'], message: /--executors=split: expected COMPONENT=N/ },
  { args: ['history', 'wordcount', '-o', 'xml'], message: /allowed formats are: json,yaml/ },
  { args: ['frobnicate'], message: /unknown command "frobnicate" for "kubectl storm"/ },
  { args: ['history', 'wordcount', '--bogus'], message: /Unknown option '--bogus'/ },
];
for (const { args, message } of usageCases) {
  test(`usage error: kubectl storm ${args.join(' ')}`, async (t) => {
    const r = await run('kubectl-storm', [...args, kubeconfigFlag()]);
    t.is(r.code, 1);
    t.regex(r.stderr, message);
  });
}

test('completion bash and zsh print scripts for the plugin', async (t) => {
  const bash = await run('kubectl-storm', ['completion', 'bash']);
  t.is(bash.code, 0);
  t.regex(bash.stdout, /complete -o default -F _kubectl_storm kubectl-storm/);
  if (existsSync('/bin/bash')) {
    const syntax = await new Promise<number>((resolve) => execFile('/bin/bash', ['-n', '-c', bash.stdout], (err) => resolve(err ? 1 : 0)));
    t.is(syntax, 0, 'bash -n accepts the script');
  }
  const zsh = await run('kubectl-pvcgroup', ['completion', 'zsh']);
  t.is(zsh.code, 0);
  t.regex(zsh.stdout, /^#compdef kubectl-pvcgroup/);
  const none = await run('kubectl-performer', ['completion', 'fish']);
  t.is(none.code, 1);
});

test('kubectl_complete-storm completes commands, flags and topology names (Cobra protocol)', async (t) => {
  const commands = await run('kubectl_complete-storm', ['']);
  t.deepEqual(commands.stdout.trimEnd().split('\n'), ['promote', 'rollback', 'rebalance', 'metrics', 'history', 'completion', ':4']);
  const prefixed = await run('kubectl_complete-storm', ['re']);
  t.deepEqual(prefixed.stdout.trimEnd().split('\n'), ['rebalance', ':4']);
  const names = await run('kubectl_complete-storm', ['history', '-n', 'storm', kubeconfigFlag(), 'word']);
  t.deepEqual(names.stdout.trimEnd().split('\n'), ['wordcount', ':4']);
  const flags = await run('kubectl_complete-storm', ['rebalance', 'wordcount', '--w']);
  t.deepEqual(flags.stdout.trimEnd().split('\n'), ['--workers', '--wait', ':4']);
});

test('kubectl runs the installed plugin: kubectl storm history (real kubectl)', async (t) => {
  if (!existsSync(KUBECTL)) {
    t.pass('kubectl is not installed');
    return;
  }
  const env = { PATH: `${BIN}${delimiter}${process.env.PATH ?? ''}` };
  const r = await run('kubectl', ['storm', 'history', 'wordcount', '-n', 'storm', kubeconfigFlag()], env);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^REVISION\s+VERSION/);
  const failed = await run('kubectl', ['storm', 'history', 'absent', '-n', 'storm', kubeconfigFlag()], env);
  t.is(failed.code, 1);
  t.regex(failed.stderr, /^Error from server \(NotFound\): stormtopologies\.storm\.apache\.org "absent" not found/);
  const completion = await run('kubectl', ['__complete', 'storm', 'hist'], env);
  t.regex(completion.stdout, /^history$/m);
});
