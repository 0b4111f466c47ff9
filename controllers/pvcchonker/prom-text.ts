// A strict parser for the Prometheus text exposition format 0.0.4 (what a kubelet's /metrics
// serves). Hand-written: the npm parsers for it (parse-prometheus-text-format, last published
// 2018) are unmaintained, and the grammar is small. Only samples are returned; HELP/TYPE lines and
// comments are checked and skipped. A malformed line throws with its line number: a truncated or
// garbled answer must not be mistaken for "this volume is empty".

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

export class PromParseError extends Error {}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string, line: number): number {
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new PromParseError(`line ${line}: "${text}" is not a sample value`);
  return Number(text);
}

function parseLabels(text: string, start: number, line: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start;
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '}') return { labels, end: i + 1 };
    const name = LABEL_NAME.exec(text.slice(i));
    if (!name) throw new PromParseError(`line ${line}: expected a label name at column ${i + 1}`);
    i += name[0].length;
    while (text[i] === ' ') i++;
    if (text[i] !== '=') throw new PromParseError(`line ${line}: expected = after label ${name[0]}`);
    i++;
    while (text[i] === ' ') i++;
    if (text[i] !== '"') throw new PromParseError(`line ${line}: expected a quoted value for label ${name[0]}`);
    i++;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new PromParseError(`line ${line}: unterminated value of label ${name[0]}`);
      if (c === '"') break;
      if (c === '\\') {
        const next = text[i + 1];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new PromParseError(`line ${line}: invalid escape \\${next ?? ''} in label ${name[0]}`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++;
    if (Object.prototype.hasOwnProperty.call(labels, name[0])) throw new PromParseError(`line ${line}: label ${name[0]} repeated`);
    labels[name[0]] = value;
    while (text[i] === ' ') i++;
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] === '}') return { labels, end: i + 1 };
    throw new PromParseError(`line ${line}: expected , or } after label ${name[0]}`);
  }
}

/** Every sample of `text`, in order. */
export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = index + 1;
    const l = raw.replace(/\r$/, '').trim();
    if (l === '') return;
    if (l.startsWith('#')) {
      const m = /^#\s*(HELP|TYPE)\s+(\S+)(\s+(.*))?$/.exec(l);
      if (m && !NAME.test(m[2])) throw new PromParseError(`line ${line}: invalid metric name in ${m[1]}`);
      if (m?.[1] === 'TYPE' && !/^(counter|gauge|histogram|summary|untyped)$/.test(m[4] ?? '')) {
        throw new PromParseError(`line ${line}: unknown metric type "${m[4] ?? ''}"`);
      }
      return;
    }
    const name = NAME.exec(l);
    if (!name) throw new PromParseError(`line ${line}: expected a metric name`);
    let i = name[0].length;
    let labels: Record<string, string> = {};
    if (l[i] === '{') ({ labels, end: i } = parseLabels(l, i + 1, line));
    const rest = l.slice(i).trim().split(/\s+/);
    if (rest.length < 1 || rest.length > 2 || rest[0] === '') throw new PromParseError(`line ${line}: expected a value and an optional timestamp`);
    const sample: PromSample = { name: name[0], labels, value: parseValue(rest[0], line) };
    if (rest[1] !== undefined) {
      if (!/^-?\d+$/.test(rest[1])) throw new PromParseError(`line ${line}: "${rest[1]}" is not a timestamp`);
      sample.timestampMs = Number(rest[1]);
    }
    out.push(sample);
  });
  return out;
}
