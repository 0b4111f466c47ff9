// `kubectl storm`: the custom verbs and computed reads of StormTopologies
// (storm.apache.org/v1beta1): promote, rollback, rebalance, metrics, and the revision history.
import { UsageError, isRecord } from './client.js';
import { runPlugin, type CommandContext, type PluginSpec, type ResourceRef } from './cli.js';
import { cell, formatRaw, formatResponse, formatTable } from './output.js';

const TOPOLOGIES: ResourceRef = { group: 'storm.apache.org', version: 'v1beta1', plural: 'stormtopologies' };
const API_VERSION = `${TOPOLOGIES.group}/${TOPOLOGIES.version}`;

function topologyPath(ctx: CommandContext, subresource?: string): string {
  return ctx.client.path(TOPOLOGIES.group, TOPOLOGIES.version, TOPOLOGIES.plural, ctx.args[0], subresource);
}

function show(ctx: CommandContext, response: Record<string, unknown>): void {
  ctx.print(ctx.output === 'table' ? formatResponse(response) : formatRaw(response, ctx.output));
}

/** A non-negative integer flag value, or undefined when the flag is absent. */
export function integerFlag(ctx: CommandContext, name: string): number | undefined {
  const raw = ctx.flags[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^[0-9]+$/.test(raw)) throw new UsageError(`--${name}=${String(raw)}: expected a non-negative integer`);
  return Number(raw);
}

/** `--executors=split=4 --executors=count=8` or `--executors=split=4,count=8` → `{ split: 4, count: 8 }`. */
export function executorsFlag(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of values.flatMap((v) => v.split(',')).filter((v) => v !== '')) {
    const m = /^([^=]+)=([0-9]+)$/.exec(entry);
    if (!m) throw new UsageError(`--executors=${entry}: expected COMPONENT=N`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

/** The topology's status.history as a table, the current revision marked. */
export function formatHistory(topology: Record<string, unknown>): string {
  const status = isRecord(topology.status) ? topology.status : {};
  const history = Array.isArray(status.history) ? status.history.filter(isRecord) : [];
  if (history.length === 0) return `No revisions recorded for topology "${String((topology.metadata as { name?: string } | undefined)?.name ?? '')}".\n`;
  const current = status.currentRevision;
  const rows = history.map((r) => [
    cell(r.revision),
    cell(r.version),
    cell(r.cause),
    cell(r.color),
    cell(r.topologyId),
    cell(r.deployedAt),
    r.revision === current ? '*' : '',
  ]);
  return formatTable(['REVISION', 'VERSION', 'CAUSE', 'COLOR', 'TOPOLOGY-ID', 'DEPLOYED-AT', 'CURRENT'], rows);
}

export const stormPlugin: PluginSpec = {
  name: 'storm',
  summary: 'Operate Storm topologies (storm.apache.org) served by the operators API server.',
  resource: TOPOLOGIES,
  commands: [
    {
      name: 'promote',
      summary: 'Promote the waiting blue-green candidate of a topology',
      args: ['TOPOLOGY'],
      examples: ['kubectl storm promote wordcount -n storm'],
      async run(ctx) {
        show(ctx, await ctx.client.request('POST', topologyPath(ctx, 'promote'), { apiVersion: API_VERSION, kind: 'TopologyPromotion', spec: {} }));
      },
    },
    {
      name: 'rollback',
      summary: 'Roll a topology back to a recorded revision (default: the previous one)',
      args: ['TOPOLOGY'],
      flags: { 'to-revision': { type: 'string', description: 'the revision to return to (see "kubectl storm history")' } },
      examples: ['kubectl storm rollback wordcount --to-revision=2'],
      async run(ctx) {
        const revision = integerFlag(ctx, 'to-revision');
        const spec = revision === undefined || revision === 0 ? {} : { revision };
        show(ctx, await ctx.client.request('POST', topologyPath(ctx, 'rollback'), { apiVersion: API_VERSION, kind: 'TopologyRollback', spec }));
      },
    },
    {
      name: 'rebalance',
      summary: 'Rebalance a running topology: workers and executors per component',
      args: ['TOPOLOGY'],
      flags: {
        workers: { type: 'string', description: 'the number of workers' },
        executors: { type: 'string', multiple: true, description: 'COMPONENT=N executors (repeatable, or comma-separated)' },
        wait: { type: 'string', description: 'seconds Storm waits before rebalancing' },
      },
      examples: ['kubectl storm rebalance wordcount --workers=4 --executors=split=8 --executors=count=8 --wait=30'],
      async run(ctx) {
        const spec: Record<string, unknown> = {};
        const wait = integerFlag(ctx, 'wait');
        const workers = integerFlag(ctx, 'workers');
        const executors = executorsFlag((ctx.flags.executors as string[] | undefined) ?? []);
        if (wait !== undefined) spec.waitSecs = wait;
        if (workers !== undefined) spec.numWorkers = workers;
        if (Object.keys(executors).length > 0) spec.numExecutors = executors;
        show(ctx, await ctx.client.request('POST', topologyPath(ctx, 'rebalance'), { apiVersion: API_VERSION, kind: 'TopologyRebalance', spec }));
      },
    },
    {
      name: 'metrics',
      summary: "Show a topology's metrics from Nimbus",
      args: ['TOPOLOGY'],
      flags: { window: { type: 'string', description: 'the window in seconds (600, 10800, 86400; default: all time)' } },
      examples: ['kubectl storm metrics wordcount --window=600'],
      async run(ctx) {
        const window = integerFlag(ctx, 'window');
        const query = window === undefined ? '' : `?window=${window}`;
        show(ctx, await ctx.client.request('GET', `${topologyPath(ctx, 'metrics')}${query}`));
      },
    },
    {
      name: 'history',
      summary: 'List the recorded revisions of a topology',
      args: ['TOPOLOGY'],
      examples: ['kubectl storm history wordcount', 'kubectl storm history wordcount -o yaml'],
      async run(ctx) {
        const topology = await ctx.client.request('GET', topologyPath(ctx));
        if (ctx.output !== 'table') {
          const status = isRecord(topology.status) ? topology.status : {};
          ctx.print(formatRaw({ currentRevision: status.currentRevision, history: status.history ?? [] }, ctx.output));
          return;
        }
        ctx.print(formatHistory(topology));
      },
    },
  ],
};

export function main(argv: string[]): Promise<number> {
  return runPlugin(stormPlugin, argv);
}
