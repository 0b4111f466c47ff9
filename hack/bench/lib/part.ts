// The contract of one benchmark part: `npm run bench:<name>` runs it alone, `npm run bench` runs
// them all in order. A part starts what it measures (server, baseline, etcd), stops it all before
// it returns, stays loopback-only and bounded in time, and returns its figures.
import type { Figure } from './figures.js';

export interface BenchPart {
  name: string;
  /** One line for `--help` and the results file. */
  description: string;
  run(context: BenchContext): Promise<Figure[]>;
}

export interface BenchContext {
  /** Progress lines go to stderr, so stdout carries only the final table. */
  log(message: string): void;
}
