// The Prometheus text parser and the kubelet volume stats read from it.
import test from 'ava';
import { volumeStatsFromText } from '../../controllers/pvcchonker/kubelet-metrics.js';
import { parsePrometheusText, PromParseError } from '../../controllers/pvcchonker/prom-text.js';
import { kubeletMetricsText } from '../hostcluster/metrics.js';

test('parses samples with labels, escapes, special values and timestamps', (t) => {
  const text = [
    '# HELP a_metric Some help',
    '# TYPE a_metric gauge',
    'a_metric{x="1",y="a \\"quoted\\" \\\\ value\\nnext"} 1.5e+09',
    'b_metric 3 1700000000000',
    'c{l="v",} NaN',
    'd +Inf',
    '',
  ].join('\n');
  const samples = parsePrometheusText(text);
  t.is(samples.length, 4);
  t.deepEqual(samples[0], { name: 'a_metric', labels: { x: '1', y: 'a "quoted" \\ value\nnext' }, value: 1.5e9 });
  t.is(samples[1].timestampMs, 1700000000000);
  t.true(Number.isNaN(samples[2].value));
  t.is(samples[3].value, Infinity);
});

test('rejects malformed lines with their line number', (t) => {
  const cases = ['a{x="1"', 'a{x=1} 2', 'a 1 2 3', 'a{x="1",x="2"} 1', 'a notanumber', '# TYPE a nonsense', '{x="1"} 1', 'a{x="\\q"} 1'];
  for (const c of cases) {
    const err = t.throws(() => parsePrometheusText(`ok 1\n${c}\n`), { instanceOf: PromParseError }, c);
    t.regex(err!.message, /^line 2:/, c);
  }
});

test('volume stats by namespace/claim from what a kubelet serves (stand-in kubelet)', (t) => {
  const text = kubeletMetricsText('node-1', [
    { namespace: 'ns', persistentvolumeclaim: 'data', stats: { capacityBytes: 10 * 2 ** 30, availableBytes: 2 ** 30, usedBytes: 9 * 2 ** 30, inodes: 1000, inodesUsed: 100, inodesFree: 900 } },
  ]);
  const stats = volumeStatsFromText(text);
  t.deepEqual([...stats.keys()], ['ns/data']);
  t.deepEqual(stats.get('ns/data'), { capacityBytes: 10 * 2 ** 30, availableBytes: 2 ** 30, usedBytes: 9 * 2 ** 30, inodes: 1000, inodesUsed: 100, inodesFree: 900 });
});

test('a volume without inode figures has them unknown, not 0', (t) => {
  const stats = volumeStatsFromText('kubelet_volume_stats_capacity_bytes{namespace="n",persistentvolumeclaim="p"} 100\nkubelet_volume_stats_available_bytes{namespace="n",persistentvolumeclaim="p"} 50\n');
  t.deepEqual(stats.get('n/p'), { capacityBytes: 100, availableBytes: 50 });
});
