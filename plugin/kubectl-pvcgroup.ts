// `kubectl pvcgroup`: the computed read and custom verb of PVCGroups (pvc-chonker.io/v1alpha1):
// the expansion history of a group's volumes, and rebalancing the group (with --dry-run to see
// what would change).
import { runPlugin, type CommandContext, type PluginSpec, type ResourceRef } from './cli.js';
import { formatRaw, formatResponse } from './output.js';

const GROUPS: ResourceRef = { group: 'pvc-chonker.io', version: 'v1alpha1', plural: 'pvcgroups' };
const API_VERSION = `${GROUPS.group}/${GROUPS.version}`;

function groupPath(ctx: CommandContext, subresource: string): string {
  return ctx.client.path(GROUPS.group, GROUPS.version, GROUPS.plural, ctx.args[0], subresource);
}

function show(ctx: CommandContext, response: Record<string, unknown>): void {
  ctx.print(ctx.output === 'table' ? formatResponse(response) : formatRaw(response, ctx.output));
}

export const pvcgroupPlugin: PluginSpec = {
  name: 'pvcgroup',
  summary: 'Operate PVC groups (pvc-chonker.io) served by the operators API server.',
  resource: GROUPS,
  commands: [
    {
      name: 'expansions',
      summary: "List the volume expansions of a group's PVCs",
      args: ['GROUP'],
      examples: ['kubectl pvcgroup expansions kafka-data -n kafka'],
      async run(ctx) {
        show(ctx, await ctx.client.request('GET', groupPath(ctx, 'expansions')));
      },
    },
    {
      name: 'rebalance',
      summary: "Bring the group's PVCs to one size (the largest member's)",
      args: ['GROUP'],
      flags: { 'dry-run': { type: 'boolean', description: 'show what would change without changing it' } },
      examples: ['kubectl pvcgroup rebalance kafka-data --dry-run'],
      async run(ctx) {
        const query = ctx.flags['dry-run'] ? '?dryRun=All' : '';
        show(ctx, await ctx.client.request('POST', `${groupPath(ctx, 'rebalance')}${query}`, { apiVersion: API_VERSION, kind: 'PVCGroupRebalance', spec: {} }));
      },
    },
  ],
};

export function main(argv: string[]): Promise<number> {
  return runPlugin(pvcgroupPlugin, argv);
}
