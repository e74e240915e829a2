// Label and field selectors with the semantics of k8s.io/apimachinery/pkg/labels and
// pkg/fields: `!=` and `notin` also match objects without the key.
import { badRequest } from './errors.js';

export type LabelRequirement =
  | { key: string; op: 'exists' | '!' }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'gt' | 'lt'; value: number };

export type Labels = Record<string, string> | undefined;

const KEY_RE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function fail(detail: string): never {
  throw badRequest(`unable to parse requirement: ${detail}`);
}

/** Splits on commas that are not inside parentheses. */
function splitTop(input: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of input) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

function checkKey(key: string): string {
  if (!KEY_RE.test(key) || key.split('/').pop()!.length > 63) fail(`invalid label key "${key}"`);
  return key;
}

function checkValue(value: string): string {
  if (value.length > 63 || !VALUE_RE.test(value)) fail(`invalid label value: "${value}"`);
  return value;
}

export function parseLabelSelector(input: string | null | undefined): LabelRequirement[] {
  if (!input || !input.trim()) return [];
  const requirements: LabelRequirement[] = [];
  for (const raw of splitTop(input)) {
    const part = raw.trim();
    if (!part) fail('found \'\', expected: !, identifier, or \'end of string\'');
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^!\s*(\S+)$/))) {
      requirements.push({ key: checkKey(m[1]!), op: '!' });
    } else if ((m = part.match(/^(\S+?)\s+(in|notin)\s*\((.*)\)$/))) {
      const values = m[3]!.split(',').map((v) => checkValue(v.trim()));
      requirements.push({ key: checkKey(m[1]!), op: m[2] as 'in' | 'notin', values });
    } else if ((m = part.match(/^([^=!<>\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      const op = m[2] === '!=' ? 'notin' : 'in';
      requirements.push({ key: checkKey(m[1]!), op, values: [checkValue(m[3]!)] });
    } else if ((m = part.match(/^([^=!<>\s]+)\s*([<>])\s*(-?\d+)$/))) {
      requirements.push({ key: checkKey(m[1]!), op: m[2] === '>' ? 'gt' : 'lt', value: Number(m[3]) });
    } else if ((m = part.match(/^([^=!<>\s()]+)$/))) {
      requirements.push({ key: checkKey(m[1]!), op: 'exists' });
    } else {
      fail(`found '${part}', expected: identifier or operator`);
    }
  }
  return requirements;
}

export function matchesLabels(requirements: LabelRequirement[], labels: Labels): boolean {
  for (const r of requirements) {
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
    const value = has ? labels![r.key]! : undefined;
    switch (r.op) {
      case 'exists':
        if (!has) return false;
        break;
      case '!':
        if (has) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(value!)) return false;
        break;
      case 'notin':
        if (has && r.values.includes(value!)) return false;
        break;
      case 'gt':
      case 'lt': {
        const n = Number(value);
        if (!has || !/^-?\d+$/.test(value!)) return false;
        if (r.op === 'gt' ? !(n > r.value) : !(n < r.value)) return false;
        break;
      }
    }
  }
  return true;
}

export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

/** Fields each kind supports in field selectors (metadata.name/namespace for all). */
const EXTRA_FIELDS: Record<string, string[]> = {
  Secret: ['type'],
  Pod: ['spec.nodeName', 'spec.serviceAccountName', 'status.phase', 'spec.restartPolicy', 'spec.schedulerName', 'status.podIP'],
  Namespace: ['status.phase'],
};

export function parseFieldSelector(input: string | null | undefined, kind: string, namespaced: boolean): FieldRequirement[] {
  if (!input || !input.trim()) return [];
  const allowed = ['metadata.name', ...(namespaced ? ['metadata.namespace'] : []), ...(EXTRA_FIELDS[kind] ?? [])];
  const out: FieldRequirement[] = [];
  for (const raw of input.split(',')) {
    const m = raw.trim().match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${input}'; can't understand '${raw}'`);
    const field = m[1]!;
    if (!allowed.includes(field)) throw badRequest(`field label not supported: ${field}`);
    out.push({ field, value: m[3]!, negate: m[2] === '!=' });
  }
  return out;
}

function fieldValue(obj: Record<string, unknown>, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

export function matchesFields(requirements: FieldRequirement[], obj: Record<string, unknown>): boolean {
  return requirements.every((r) => (fieldValue(obj, r.field) === r.value) !== r.negate);
}
