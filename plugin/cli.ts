// The frame every plugin shares: kubectl's connection flags (`-n/--namespace`, `--context`,
// `--kubeconfig`) and `-o json|yaml`, one sub-command per verb declared as data, `--help`, shell
// completion (`completion bash|zsh`, and the Cobra-style `__complete` that kubectl ≥ 1.26 calls
// through `kubectl_complete-<plugin>`), and exit codes: 0 on success, 1 with the server's Status
// message (or a usage error) on stderr otherwise.
import { parseArgs } from 'node:util';
import { ApiClient, ConnectionError, ServerError, UsageError, type ConnectionFlags } from './client.js';
import { bashCompletion, zshCompletion, COMPLETION_NO_FILES } from './completion.js';
import { parseOutputFormat, type OutputFormat } from './output.js';

export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
}

export interface FlagSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  description: string;
}

export interface CommandContext {
  client: ApiClient;
  /** Positional arguments after the sub-command (at least `args` of the spec). */
  args: string[];
  flags: Record<string, string | boolean | Array<string | boolean> | undefined>;
  output: OutputFormat;
  print(text: string): void;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Names of the required positional arguments (`TOPOLOGY`). */
  args: string[];
  flags?: Record<string, FlagSpec>;
  /** Extra usage lines (examples). */
  examples?: string[];
  run(ctx: CommandContext): Promise<void>;
}

export interface PluginSpec {
  /** `storm` for `kubectl storm` (executable `kubectl-storm`). */
  name: string;
  summary: string;
  /** The resource whose object names the first argument completes to. */
  resource: ResourceRef;
  commands: CommandSpec[];
}

export interface PluginIO {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIO: PluginIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

const COMMON_FLAGS = {
  namespace: { type: 'string', short: 'n' },
  context: { type: 'string' },
  kubeconfig: { type: 'string' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

const COMMON_USAGE = `
Flags understood by every command:
  -n, --namespace=NS     the namespace (default: the context's, else "default")
      --context=NAME     the kubeconfig context to use
      --kubeconfig=FILE  the kubeconfig (default: $KUBECONFIG, else ~/.kube/config)
  -o, --output=FORMAT    json or yaml (default: a table)
`;

export function pluginUsage(plugin: PluginSpec): string {
  const width = Math.max(...plugin.commands.map((c) => c.name.length), 'completion'.length);
  const lines = plugin.commands.map((c) => `  ${c.name.padEnd(width)}   ${c.summary}`);
  lines.push(`  ${'completion'.padEnd(width)}   Print a shell completion script (bash or zsh)`);
  return `${plugin.summary}\n\nUsage:\n  kubectl ${plugin.name} COMMAND [ARGS] [flags]\n\nCommands:\n${lines.join('\n')}\n${COMMON_USAGE}`;
}

export function commandUsage(plugin: PluginSpec, command: CommandSpec): string {
  const flags = Object.entries(command.flags ?? {}).map(([name, f]) => `      --${name}${f.type === 'string' ? '=VALUE' : ''}   ${f.description}`);
  const examples = command.examples?.length ? `\nExamples:\n${command.examples.map((e) => `  ${e}`).join('\n')}\n` : '';
  return `${command.summary}\n\nUsage:\n  kubectl ${plugin.name} ${command.name} ${command.args.join(' ')} [flags]\n${
    flags.length ? `\nFlags:\n${flags.join('\n')}\n` : ''
  }${examples}${COMMON_USAGE}`;
}

/** Runs the plugin with `argv` (the arguments after the executable); resolves with the exit code. */
export async function runPlugin(plugin: PluginSpec, argv: string[], io: PluginIO = processIO): Promise<number> {
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
      io.stdout(pluginUsage(plugin));
      return 0;
    }
    if (name === '__complete') {
      io.stdout(await complete(plugin, rest));
      return 0;
    }
    if (name === 'completion') return printCompletion(plugin, rest, io);
    const command = plugin.commands.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command "${name}" for "kubectl ${plugin.name}"\n\n${pluginUsage(plugin)}`);
    const parsed = parseCommandLine(command, rest);
    if (parsed.values.help) {
      io.stdout(commandUsage(plugin, command));
      return 0;
    }
    if (parsed.positionals.length < command.args.length) {
      throw new UsageError(`"kubectl ${plugin.name} ${command.name}" requires ${command.args.join(' ')}\n\n${commandUsage(plugin, command)}`);
    }
    if (parsed.positionals.length > command.args.length) {
      throw new UsageError(`unexpected arguments: ${parsed.positionals.slice(command.args.length).join(' ')}`);
    }
    const output = parseOutputFormat(parsed.values.output as string | undefined);
    const client = ApiClient.fromFlags(parsed.values as ConnectionFlags);
    await command.run({ client, args: parsed.positionals, flags: parsed.values, output, print: io.stdout });
    return 0;
  } catch (err) {
    if (err instanceof ServerError || err instanceof ConnectionError) io.stderr(`${err.describe()}\n`);
    else if (err instanceof UsageError) io.stderr(`error: ${err.message}\n`);
    else io.stderr(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

function parseCommandLine(command: CommandSpec, argv: string[]) {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { ...COMMON_FLAGS };
  for (const [name, spec] of Object.entries(command.flags ?? {})) options[name] = { type: spec.type, ...(spec.multiple ? { multiple: true } : {}) };
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function printCompletion(plugin: PluginSpec, args: string[], io: PluginIO): number {
  const shell = args[0];
  if (shell === 'bash') io.stdout(bashCompletion(plugin.name));
  else if (shell === 'zsh') io.stdout(zshCompletion(plugin.name));
  else throw new UsageError(`completion: expected "bash" or "zsh", got ${shell === undefined ? 'nothing' : `"${shell}"`}`);
  return 0;
}

/**
 * Cobra's `__complete ARGS... TO_COMPLETE`: candidates one per line, then `:<directive>`. The
 * first word completes to a command, the second to object names from the server (in the
 * namespace the line names), a word starting with `-` to the command's flags.
 */
async function complete(plugin: PluginSpec, words: string[]): Promise<string> {
  const toComplete = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const done = (candidates: string[]) => [...candidates.filter((c) => c.startsWith(toComplete)), `:${COMPLETION_NO_FILES}`].join('\n') + '\n';
  const positionals = before.filter((w, i) => !w.startsWith('-') && !/^-(n|o)$|^--(namespace|context|kubeconfig|output)$/.test(before[i - 1] ?? ''));
  if (positionals.length === 0) {
    if (toComplete.startsWith('-')) return done(['--help']);
    return done([...plugin.commands.map((c) => c.name), 'completion']);
  }
  const command = plugin.commands.find((c) => c.name === positionals[0]);
  if (positionals[0] === 'completion') return done(positionals.length === 1 ? ['bash', 'zsh'] : []);
  if (!command) return done([]);
  if (toComplete.startsWith('-')) {
    return done([...Object.keys(command.flags ?? {}), 'namespace', 'context', 'kubeconfig', 'output', 'help'].map((f) => `--${f}`));
  }
  const previous = before.at(-1);
  if (previous === '-o' || previous === '--output') return done(['json', 'yaml']);
  if (positionals.length !== 1 || command.args.length === 0) return done([]);
  try {
    const flagsFromLine = parseArgs({ args: before.slice(1), options: COMMON_FLAGS, strict: false, allowPositionals: true }).values;
    const client = ApiClient.fromFlags(flagsFromLine as ConnectionFlags);
    const list = await client.request('GET', client.path(plugin.resource.group, plugin.resource.version, plugin.resource.plural));
    const items = Array.isArray(list.items) ? (list.items as Array<{ metadata?: { name?: string } }>) : [];
    return done(items.map((i) => i.metadata?.name ?? '').filter(Boolean));
  } catch {
    return done([]);
  }
}
