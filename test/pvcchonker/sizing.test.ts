// Size math: quantities, percent and quantity increases, GiB rounding, max-size caps.
import test from 'ava';
import { formatBytes, GiB, nextSize, parseBytes, parseIncrease, roundUpToGiB } from '../../controllers/pvcchonker/sizing.js';

const MiB = 1024 ** 2;

test('parseBytes reads Kubernetes quantities', (t) => {
  const cases: Array<[unknown, number | undefined]> = [
    ['10Gi', 10 * GiB],
    ['1.5Gi', 1.5 * GiB],
    ['500Mi', 500 * MiB],
    ['1G', 1e9],
    ['1e9', 1e9],
    [1024, 1024],
    ['abc', undefined],
    ['-1Gi', undefined],
    [undefined, undefined],
  ];
  for (const [input, want] of cases) t.is(parseBytes(input), want, String(input));
});

test('parseIncrease takes N% or a quantity, and nothing else', (t) => {
  t.deepEqual(parseIncrease('10%'), { percent: 10 });
  t.deepEqual(parseIncrease('2.5%'), { percent: 2.5 });
  t.deepEqual(parseIncrease('5Gi'), { bytes: 5 * GiB });
  for (const bad of ['0%', '0Gi', 'ten%', '%', '-5Gi', '']) t.is(parseIncrease(bad), undefined, bad);
});

test('roundUpToGiB and formatBytes', (t) => {
  t.is(roundUpToGiB(10 * GiB), 10 * GiB);
  t.is(roundUpToGiB(10 * GiB + 1), 11 * GiB);
  t.is(roundUpToGiB(1), GiB);
  t.is(formatBytes(11 * GiB), '11Gi');
  t.is(formatBytes(2048 * GiB), '2Ti');
  t.is(formatBytes(1536 * MiB), '1536Mi');
  t.is(formatBytes(1000), '1000');
});

test('nextSize: current + max(increase, minScaleUp), rounded up to whole GiB, capped at max-size', (t) => {
  const cases: Array<{ name: string; current: number; increase: ReturnType<typeof parseIncrease>; minScaleUp: number; max?: number; want: ReturnType<typeof nextSize> }> = [
    { name: '10% of 100Gi', current: 100 * GiB, increase: { percent: 10 }, minScaleUp: GiB, want: { outcome: 'grow', size: 110 * GiB, capped: false } },
    { name: '10% of 5Gi is below minScaleUp 1Gi', current: 5 * GiB, increase: { percent: 10 }, minScaleUp: GiB, want: { outcome: 'grow', size: 6 * GiB, capped: false } },
    { name: '15% of 10Gi rounds 11.5Gi up to 12Gi', current: 10 * GiB, increase: { percent: 15 }, minScaleUp: GiB, want: { outcome: 'grow', size: 12 * GiB, capped: false } },
    { name: 'quantity increase', current: 10 * GiB, increase: { bytes: 5 * GiB }, minScaleUp: GiB, want: { outcome: 'grow', size: 15 * GiB, capped: false } },
    { name: 'quantity increase below minScaleUp', current: 10 * GiB, increase: { bytes: 100 * MiB }, minScaleUp: 2 * GiB, want: { outcome: 'grow', size: 12 * GiB, capped: false } },
    { name: 'non-GiB current rounds up', current: 1500 * MiB, increase: { bytes: MiB }, minScaleUp: MiB, want: { outcome: 'grow', size: 2 * GiB, capped: false } },
    { name: 'capped at max-size', current: 95 * GiB, increase: { percent: 10 }, minScaleUp: GiB, max: 100 * GiB, want: { outcome: 'grow', size: 100 * GiB, capped: true } },
    { name: 'at max-size', current: 100 * GiB, increase: { percent: 10 }, minScaleUp: GiB, max: 100 * GiB, want: { outcome: 'at-max', maxSize: 100 * GiB } },
    { name: 'max-size below current: never shrink', current: 100 * GiB, increase: { percent: 10 }, minScaleUp: GiB, max: 50 * GiB, want: { outcome: 'max-below-current', maxSize: 50 * GiB } },
  ];
  for (const c of cases) t.deepEqual(nextSize(c.current, c.increase!, c.minScaleUp, c.max), c.want, c.name);
});
