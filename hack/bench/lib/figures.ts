// What a benchmark part reports. Every figure is a measurement *and* a baseline measured in the
// same run on the same machine, because absolute times on these machines are not stable; the
// ratio between the two is the figure, and the target says what the ratio (or, for latency
// budgets, the measurement) must satisfy.

export interface Measurement {
  value: number;
  /** 'rps', 'ms', 'MB', ... */
  unit: string;
}

export interface Figure {
  /** The part that measured it (`npm run bench:<part>`). */
  part: string;
  /** What was measured, e.g. 'GET one object (watch cache), rps at 50 connections'. */
  figure: string;
  measured: Measurement;
  /** The same-run baseline: what it is and what it gave. */
  baseline: Measurement & { name: string };
  /** measured / baseline. */
  ratio: number;
  /** The target in words, e.g. 'ratio ≥ 0.60' or 'p99 ≤ 2× baseline + 5 ms'. */
  target: string;
  pass: boolean;
  /** Anything else worth keeping (p50/p99, counts, errors, per-phase timings). */
  details?: Record<string, unknown>;
}

export function figure(fields: Omit<Figure, 'ratio'> & { ratio?: number }): Figure {
  const ratio = fields.ratio ?? fields.measured.value / fields.baseline.value;
  return { ...fields, ratio: round(ratio, 3) };
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function format(m: Measurement): string {
  const digits = Math.abs(m.value) >= 100 ? 0 : Math.abs(m.value) >= 10 ? 1 : 2;
  return `${m.value.toFixed(digits)} ${m.unit}`;
}

/** The one table `npm run bench` prints and `docs/benchmarks.md` holds (GitHub markdown). */
export function markdownTable(figures: Figure[]): string {
  const rows = figures.map((f) => [
    f.figure,
    format(f.measured),
    `${format(f.baseline)} (${f.baseline.name})`,
    f.ratio.toFixed(2),
    f.target,
    f.pass ? 'pass' : '**FAIL**',
  ]);
  const header = ['figure', 'measured', 'baseline (same run)', 'ratio', 'target', 'result'];
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
