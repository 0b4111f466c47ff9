// Size math: Kubernetes quantities in bytes, the next size of an expansion (current + max(increase,
// minScaleUp), rounded up to a whole GiB, capped at maxSize), and how sizes are written back.
import { quantityValue } from '../../registry/validation.js';

export const GiB = 1024 ** 3;

/** An increase: a percentage of the current size, or a fixed number of bytes. */
export type Increase = { percent: number } | { bytes: number };

/** Bytes of a quantity (`10Gi`, `500M`, `1e9`); undefined when it is not one or not a whole, non-negative number of bytes. */
export function parseBytes(q: unknown): number | undefined {
  const v = quantityValue(q);
  if (v === undefined || !Number.isFinite(v) || v < 0) return undefined;
  return Math.ceil(v);
}

/** `10%` → { percent: 10 }; `5Gi` → { bytes }; undefined when neither or not > 0. */
export function parseIncrease(text: string): Increase | undefined {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (m) {
    const percent = Number(m[1]);
    return percent > 0 ? { percent } : undefined;
  }
  const bytes = parseBytes(text);
  return bytes !== undefined && bytes > 0 ? { bytes } : undefined;
}

export function formatIncrease(inc: Increase): string {
  return 'percent' in inc ? `${inc.percent}%` : formatBytes(inc.bytes);
}

/** A byte count as a quantity: whole GiB/MiB/KiB when exact, else plain bytes. */
export function formatBytes(bytes: number): string {
  for (const [suffix, unit] of [['Ti', 1024 ** 4], ['Gi', GiB], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) {
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}

export function roundUpToGiB(bytes: number): number {
  return Math.ceil(bytes / GiB) * GiB;
}

export type NextSize =
  | { outcome: 'grow'; size: number; capped: boolean }
  /** Already at (or above) maxSize: nothing to do but say so. */
  | { outcome: 'at-max'; maxSize: number }
  /** maxSize is below the current size: never shrink. */
  | { outcome: 'max-below-current'; maxSize: number };

/** The size an expansion of a `current`-byte volume asks for. */
export function nextSize(current: number, increase: Increase, minScaleUp: number, maxSize?: number): NextSize {
  if (maxSize !== undefined && maxSize < current) return { outcome: 'max-below-current', maxSize };
  if (maxSize !== undefined && maxSize === current) return { outcome: 'at-max', maxSize };
  const step = 'percent' in increase ? Math.ceil((current * increase.percent) / 100) : increase.bytes;
  const wanted = roundUpToGiB(current + Math.max(step, minScaleUp));
  if (maxSize !== undefined && wanted > maxSize) return { outcome: 'grow', size: maxSize, capped: true };
  return { outcome: 'grow', size: wanted, capped: false };
}

/** Percentage used, or undefined when a figure is unknown (never 0 for "no data"). */
export function percentUsed(used: number | undefined, total: number | undefined): number | undefined {
  if (used === undefined || total === undefined || total <= 0) return undefined;
  return (used / total) * 100;
}
