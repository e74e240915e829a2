// Globs exactly as gobwas/glob v0.2.3 compiles them without separators (what Argo CD's
// glob util uses): `*`/`**` match any run of characters including `/` and `:`, `?` one
// character, `[abc]`/`[!abc]` one of (not) the listed characters, `[a-z]`/`[!a-z]` ONE
// range (no mix of ranges and characters), `{a,b}` alternatives (nestable; a group left
// open is closed at the end), `\` escapes the next character (a trailing one is dropped),
// `}` and `,` are literal outside a group. Empty or unterminated classes do not compile.
// The CLI's GLOB filters use the same dialect, so one rule holds everywhere.

export class GlobSyntaxError extends Error {}

type GlobNode =
  | { kind: 'text'; text: string }
  | { kind: 'any' }
  | { kind: 'single' }
  | { kind: 'class'; not: boolean; chars: string }
  | { kind: 'range'; not: boolean; lo: string; hi: string }
  | { kind: 'anyOf'; patterns: GlobNode[][] };

const TEXT_BREAKERS = ['?', '*', '[', '{'];
const TERMS_BREAKERS = [...TEXT_BREAKERS, '}', ','];

function parseGlob(pattern: string): GlobNode[] {
  const runes = Array.from(pattern);
  let pos = 0;
  const readText = (breakers: readonly string[]): string => {
    let text = '';
    let escaped = false;
    while (pos < runes.length) {
      const rune = runes[pos]!;
      pos += 1;
      if (!escaped) {
        if (rune === '\\') {
          escaped = true;
          continue;
        }
        if (breakers.includes(rune)) {
          pos -= 1;
          break;
        }
      }
      escaped = false;
      text += rune;
    }
    return text;
  };
  const readClass = (): GlobNode => {
    let not = false;
    if (runes[pos] === '!') {
      not = true;
      pos += 1;
    }
    if (pos >= runes.length) throw new GlobSyntaxError('unexpected end of input in a character class');
    let node: GlobNode;
    if (runes[pos + 1] === '-') {
      const lo = runes[pos]!;
      const hi = runes[pos + 2];
      if (hi === undefined) throw new GlobSyntaxError('unexpected end of input in a character class');
      if (hi.codePointAt(0)! < lo.codePointAt(0)!) throw new GlobSyntaxError(`range ${lo}-${hi} is reversed`);
      pos += 3;
      node = { kind: 'range', not, lo, hi };
    } else {
      const chars = readText([']']);
      node = { kind: 'class', not, chars };
    }
    if (pos >= runes.length) throw new GlobSyntaxError('unexpected end of input in a character class');
    if (runes[pos] !== ']') throw new GlobSyntaxError('a character class holds one range or a list of characters, then "]"');
    pos += 1;
    if (node.kind === 'class' && node.chars === '') throw new GlobSyntaxError('empty character class');
    return node;
  };

  const root: GlobNode[] = [];
  // Open groups, innermost last: the group and the pattern that holds it.
  const groups: Array<{ group: Extract<GlobNode, { kind: 'anyOf' }>; outer: GlobNode[] }> = [];
  let current = root;
  while (pos < runes.length) {
    const rune = runes[pos]!;
    if (rune === '{') {
      pos += 1;
      const alternative: GlobNode[] = [];
      const group: Extract<GlobNode, { kind: 'anyOf' }> = { kind: 'anyOf', patterns: [alternative] };
      current.push(group);
      groups.push({ group, outer: current });
      current = alternative;
    } else if (rune === ',' && groups.length > 0) {
      pos += 1;
      const alternative: GlobNode[] = [];
      groups.at(-1)!.group.patterns.push(alternative);
      current = alternative;
    } else if (rune === '}' && groups.length > 0) {
      pos += 1;
      current = groups.pop()!.outer;
    } else if (rune === '[') {
      pos += 1;
      current.push(readClass());
    } else if (rune === '?') {
      pos += 1;
      current.push({ kind: 'single' });
    } else if (rune === '*') {
      pos += runes[pos + 1] === '*' ? 2 : 1;
      current.push({ kind: 'any' });
    } else {
      const text = readText(groups.length > 0 ? TERMS_BREAKERS : TEXT_BREAKERS);
      if (text !== '') current.push({ kind: 'text', text });
    }
  }
  return root;
}

const codePoint = (rune: string): string => `\\u{${rune.codePointAt(0)!.toString(16)}}`;

function toRegExp(nodes: readonly GlobNode[]): string {
  return nodes
    .map((node) => {
      switch (node.kind) {
        case 'text':
          return Array.from(node.text, codePoint).join('');
        case 'any':
          return '.*';
        case 'single':
          return '.';
        case 'class':
          return `[${node.not ? '^' : ''}${Array.from(node.chars, codePoint).join('')}]`;
        case 'range':
          return `[${node.not ? '^' : ''}${codePoint(node.lo)}-${codePoint(node.hi)}]`;
        case 'anyOf':
          return `(?:${node.patterns.map(toRegExp).join('|')})`;
      }
    })
    .join('');
}

/** Compiles a glob; throws GlobSyntaxError when Argo CD could not compile it either. */
export function compileGlob(pattern: string): (value: string) => boolean {
  let nodes: GlobNode[];
  try {
    nodes = parseGlob(pattern);
  } catch (error) {
    // Name the pattern: the message ends up in a usage error.
    if (error instanceof GlobSyntaxError) throw new GlobSyntaxError(`"${pattern}": ${error.message}`);
    throw error;
  }
  const expression = new RegExp(`^${toRegExp(nodes)}$`, 'su');
  return (value) => expression.test(value);
}

/** Argo CD's glob.Match: a pattern that does not compile matches nothing. */
export function globMatch(pattern: string, value: string): boolean {
  try {
    return compileGlob(pattern)(value);
  } catch {
    return false;
  }
}

const GLOB_META = /[*?[\]{}\\]/;

/** A pattern without glob syntax matches exactly itself. */
export function isLiteralGlob(pattern: string): boolean {
  return !GLOB_META.test(pattern);
}
