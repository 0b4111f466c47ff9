// Label and field selectors in the string syntax of k8s.io/apimachinery (labels.Parse,
// fields.ParseSelector). Hand-written: no maintained npm package implements this grammar, and it
// is small. Errors are plain `Error`s with the message the API returns in a 400.
import type { KubeObject } from './meta.js';

export type LabelRequirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: '=' | '!='; values: [string] }
  | { key: string; op: 'exists' | '!exists'; values: [] }
  | { key: string; op: 'gt' | 'lt'; values: [string] };

export class SelectorError extends Error {}

/**
 * Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h,i>3`. `==` is a synonym of `=`. An empty string
 * selects everything.
 */
export function parseLabelSelector(text: string): LabelRequirement[] {
  const out: LabelRequirement[] = [];
  for (const raw of splitTopLevel(text)) {
    const part = raw.trim();
    if (part === '') {
      if (text.trim() !== '') throw new SelectorError(`unable to parse requirement: found '', expected: identifier`);
      continue;
    }
    let m: RegExpExecArray | null;
    if ((m = /^!\s*([^\s!=<>(),]+)$/.exec(part))) {
      out.push({ key: checkKey(m[1]), op: '!exists', values: [] });
    } else if ((m = /^([^\s!=<>(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part))) {
      const values = m[3].split(',').map((v) => checkValue(v.trim()));
      out.push({ key: checkKey(m[1]), op: m[2] as 'in' | 'notin', values });
    } else if ((m = /^([^\s!=<>(),]+)\s*(==|=|!=)\s*([^\s!=<>(),]*)$/.exec(part))) {
      out.push({ key: checkKey(m[1]), op: m[2] === '!=' ? '!=' : '=', values: [checkValue(m[3])] });
    } else if ((m = /^([^\s!=<>(),]+)\s*([<>])\s*(-?\d+)$/.exec(part))) {
      out.push({ key: checkKey(m[1]), op: m[2] === '>' ? 'gt' : 'lt', values: [m[3]] });
    } else if ((m = /^([^\s!=<>(),]+)$/.exec(part))) {
      out.push({ key: checkKey(m[1]), op: 'exists', values: [] });
    } else {
      throw new SelectorError(`unable to parse requirement: "${part}"`);
    }
  }
  return out;
}

export function matchesLabels(requirements: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of requirements) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case '=':
        if (!has || v !== r.values[0]) return false;
        break;
      case '!=':
        if (has && v === r.values[0]) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(v)) return false;
        break;
      case 'notin':
        if (has && r.values.includes(v)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case '!exists':
        if (has) return false;
        break;
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v)) return false;
        const n = Number(v);
        const bound = Number(r.values[0]);
        if (r.op === 'gt' ? !(n > bound) : !(n < bound)) return false;
        break;
      }
    }
  }
  return true;
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Parses `metadata.name=x,status.phase!=Running` (`==` is `=`); `\,` `\=` `\\` escapes as upstream. */
export function parseFieldSelector(text: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  if (text.trim() === '') return out;
  for (const part of splitEscaped(text, ',')) {
    const m = /^([^=!]+?)\s*(==|=|!=)(.*)$/s.exec(part);
    if (!m) throw new SelectorError(`invalid selector: '${text}'; can't understand '${part}'`);
    out.push({ field: m[1].trim(), op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3]) });
  }
  return out;
}

/** Values of a field requirement read from an object; the resolver decides which fields exist. */
export function matchesFields(requirements: FieldRequirement[], valueOf: (field: string) => string): boolean {
  return requirements.every((r) => (valueOf(r.field) === r.value) === (r.op === '='));
}

/** Builds one predicate for an object from both selectors (undefined when there are none). */
export function selectorPredicate(
  labels: LabelRequirement[],
  fields: FieldRequirement[],
  fieldValue: (obj: KubeObject, field: string) => string,
): ((obj: KubeObject) => boolean) | undefined {
  if (labels.length === 0 && fields.length === 0) return undefined;
  return (obj) => matchesLabels(labels, obj.metadata.labels) && matchesFields(fields, (f) => fieldValue(obj, f));
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

function splitEscaped(text: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length) {
      cur += ch + text[++i];
    } else if (ch === sep) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

function unescape(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

function checkKey(key: string): string {
  if (!KEY.test(key)) throw new SelectorError(`invalid label key "${key}": must be a qualified name`);
  return key;
}

function checkValue(value: string): string {
  if (!VALUE.test(value)) throw new SelectorError(`invalid label value: "${value}": must be a valid label value`);
  return value;
}
