// `npm run bench [-- <part>...]`: runs the benchmark parts (all by default), prints one table
// (figure, measured, same-run baseline, ratio, target, pass/fail), writes the figures to
// `bench/results/<date>.json` (merged with that day's earlier runs, part by part) and the table to
// `docs/benchmarks.md` between its markers. Exit code 1 when a part failed to run; a missed
// target is a result, not an error.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { markdownTable, type Figure } from './lib/figures.js';
import type { BenchPart } from './lib/part.js';
import { allParts } from './parts/index.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const TABLE_START = '<!-- bench:table:start -->';
const TABLE_END = '<!-- bench:table:end -->';

interface ResultsFile {
  date: string;
  machine: Record<string, unknown>;
  parts: Record<string, { description: string; ranAt: string; seconds: number; figures: Figure[]; error?: string }>;
}

function selectParts(names: string[]): BenchPart[] {
  if (names.length === 0) return allParts;
  return names.map((name) => {
    const part = allParts.find((p) => p.name === name);
    if (!part) throw new Error(`unknown part ${name}; parts: ${allParts.map((p) => p.name).join(', ')}`);
    return part;
  });
}

function machine(): Record<string, unknown> {
  return {
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_'))),
  };
}

function readResults(path: string, date: string): ResultsFile {
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as ResultsFile;
  return { date, machine: {}, parts: {} };
}

function writeDocsTable(results: ResultsFile): void {
  const docs = join(repoRoot, 'docs/benchmarks.md');
  const figures = allParts.flatMap((p) => results.parts[p.name]?.figures ?? []);
  const failed = Object.entries(results.parts).filter(([, r]) => r.error).map(([name, r]) => `- \`${name}\` did not run: ${r.error}`);
  const block = [
    TABLE_START,
    `Latest run: ${results.date}, Node ${String(results.machine.node)}, ${String(results.machine.cpus)} cores (${String(results.machine.cpuModel)}). Raw figures: \`bench/results/${results.date}.json\`.`,
    '',
    markdownTable(figures),
    ...(failed.length ? ['', ...failed] : []),
    TABLE_END,
  ].join('\n');
  const text = existsSync(docs) ? readFileSync(docs, 'utf8') : `# Benchmarks\n\n${TABLE_START}\n${TABLE_END}\n`;
  const start = text.indexOf(TABLE_START);
  const end = text.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`docs/benchmarks.md has no ${TABLE_START} … ${TABLE_END} block`);
  writeFileSync(docs, text.slice(0, start) + block + text.slice(end + TABLE_END.length));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    process.stdout.write(`usage: npm run bench [-- <part>...]\n\n${allParts.map((p) => `  ${p.name.padEnd(10)} ${p.description}`).join('\n')}\n`);
    return;
  }
  const parts = selectParts(args);
  const date = new Date().toISOString().slice(0, 10);
  const resultsPath = join(repoRoot, 'bench/results', `${date}.json`);
  mkdirSync(dirname(resultsPath), { recursive: true });
  const results = readResults(resultsPath, date);
  results.machine = machine();
  const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
  const figures: Figure[] = [];
  let failures = 0;
  for (const part of parts) {
    log(`${part.name}: ${part.description}`);
    const started = performance.now();
    try {
      const partFigures = await part.run({ log: (m) => log(`${part.name}: ${m}`) });
      figures.push(...partFigures);
      results.parts[part.name] = { description: part.description, ranAt: new Date().toISOString(), seconds: Math.round((performance.now() - started) / 1000), figures: partFigures };
    } catch (err) {
      failures++;
      const message = err instanceof Error ? err.message : String(err);
      log(`${part.name} FAILED: ${err instanceof Error ? (err.stack ?? message) : message}`);
      results.parts[part.name] = { description: part.description, ranAt: new Date().toISOString(), seconds: Math.round((performance.now() - started) / 1000), figures: [], error: message.split('\n')[0] };
    }
    writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  }
  writeDocsTable(results);
  process.stdout.write(`${markdownTable(figures)}\n`);
  const missed = figures.filter((f) => !f.pass).length;
  process.stdout.write(`\nbench: ${figures.length} figures, ${figures.length - missed} met their target, ${missed} missed; ${failures} parts failed to run\n`);
  if (failures > 0) process.exitCode = 1;
}

await main();
