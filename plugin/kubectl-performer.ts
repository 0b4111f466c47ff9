// `kubectl performer`: the computed read and custom verbs of Performers
// (hourglass.eigenlayer.io/v1alpha1): how to reach a performer, and switching between its
// serving and waiting versions.
import { runPlugin, type CommandContext, type CommandSpec, type PluginSpec, type ResourceRef } from './cli.js';
import { formatRaw, formatResponse } from './output.js';

const PERFORMERS: ResourceRef = { group: 'hourglass.eigenlayer.io', version: 'v1alpha1', plural: 'performers' };
const API_VERSION = `${PERFORMERS.group}/${PERFORMERS.version}`;

function performerPath(ctx: CommandContext, subresource: string): string {
  return ctx.client.path(PERFORMERS.group, PERFORMERS.version, PERFORMERS.plural, ctx.args[0], subresource);
}

function show(ctx: CommandContext, response: Record<string, unknown>): void {
  ctx.print(ctx.output === 'table' ? formatResponse(response) : formatRaw(response, ctx.output));
}

function versionSwitch(name: 'promote' | 'rollback', kind: string, summary: string): CommandSpec {
  return {
    name,
    summary,
    args: ['PERFORMER'],
    examples: [`kubectl performer ${name} my-avs-performer -n avs`],
    async run(ctx) {
      show(ctx, await ctx.client.request('POST', performerPath(ctx, name), { apiVersion: API_VERSION, kind, spec: {} }));
    },
  };
}

export const performerPlugin: PluginSpec = {
  name: 'performer',
  summary: 'Operate Hourglass performers (hourglass.eigenlayer.io) served by the operators API server.',
  resource: PERFORMERS,
  commands: [
    {
      name: 'connection',
      summary: 'Show how to reach a performer (endpoint, version, health)',
      args: ['PERFORMER'],
      examples: ['kubectl performer connection my-avs-performer -o yaml'],
      async run(ctx) {
        show(ctx, await ctx.client.request('GET', performerPath(ctx, 'connection')));
      },
    },
    versionSwitch('promote', 'PerformerPromotion', 'Switch a performer to its waiting new version now'),
    versionSwitch('rollback', 'PerformerRollback', 'Switch a performer back to its previous version'),
  ],
};

export function main(argv: string[]): Promise<number> {
  return runPlugin(performerPlugin, argv);
}
