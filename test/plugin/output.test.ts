// The plugins' printers and flag parsing, without a server: kubectl-style tables, the generic view
// of a response object, the topology history table, and the values of --executors.
import test from 'ava';
import { UsageError } from '../../plugin/client.js';
import { columnName, formatResponse, formatTable, parseOutputFormat } from '../../plugin/output.js';
import { executorsFlag, formatHistory } from '../../plugin/kubectl-storm.js';

test('tables are left-aligned with three spaces between columns and no trailing blanks', (t) => {
  t.is(formatTable(['NAME', 'AGE'], [['a', '1d'], ['longer-name', '']]), 'NAME          AGE\na             1d\nlonger-name\n');
});

const columnCases: Array<[string[], string]> = [
  [['numWorkers'], 'NUM-WORKERS'],
  [['promoted', 'version'], 'PROMOTED.VERSION'],
  [['id'], 'ID'],
];
for (const [path, expected] of columnCases) {
  test(`column name of ${path.join('.')} is ${expected}`, (t) => {
    t.is(columnName(path), expected);
  });
}

test('a response shows its name and status scalars, then one table per list of objects', (t) => {
  const text = formatResponse({
    metadata: { name: 'wordcount' },
    status: { window: 600, acked: 90, promoted: { version: 'v2' }, components: [{ id: 'split', executors: 4 }, { id: 'count', capacity: 0.5 }] },
  });
  t.is(
    text,
    [
      'NAME        WINDOW   ACKED   PROMOTED.VERSION',
      'wordcount   600      90      v2',
      '',
      'COMPONENTS:',
      'ID      EXECUTORS   CAPACITY',
      'split   4           <none>',
      'count   <none>      0.5',
      '',
    ].join('\n'),
  );
});

test('storm history without revisions says so', (t) => {
  t.is(formatHistory({ metadata: { name: 'wc' }, status: {} }), 'No revisions recorded for topology "wc".\n');
});

const executorCases: Array<[string[], Record<string, number> | RegExp]> = [
  [['split=4'], { split: 4 }],
  [['split=4', 'count=8'], { split: 4, count: 8 }],
  [['split=4,count=8'], { split: 4, count: 8 }],
  [[], {}],
  [['split'], /--executors=split: expected COMPONENT=N/],
  [['split=-1'], /expected COMPONENT=N/],
];
for (const [values, expected] of executorCases) {
  test(`--executors ${JSON.stringify(values)}`, (t) => {
    if (expected instanceof RegExp) t.throws(() => executorsFlag(values), { instanceOf: UsageError, message: expected });
    else t.deepEqual(executorsFlag(values), expected);
  });
}

test('-o accepts json and yaml (and the table default); anything else is a usage error', (t) => {
  t.is(parseOutputFormat(undefined), 'table');
  t.is(parseOutputFormat('json'), 'json');
  t.is(parseOutputFormat('yaml'), 'yaml');
  t.throws(() => parseOutputFormat('jsonpath={.x}'), { instanceOf: UsageError });
});
