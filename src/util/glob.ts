// Glob matching with the semantics Argo CD uses (gobwas/glob without separators): `*`
// matches any run of characters including `/` and `:`, `?` one character, `[abc]`,
// `[a-z]`, `[!abc]` a class, `{a,b}` alternatives, `\` escapes.

export class GlobSyntaxError extends Error {}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function translate(pattern: string): string {
  let out = '';
  let depth = 0;
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index]!;
    if (char === '\\') {
      const next = pattern[index + 1];
      if (next === undefined) throw new GlobSyntaxError(`"${pattern}": dangling escape`);
      out += escapeRegExp(next);
      index += 1;
    } else if (char === '*') {
      out += '.*';
    } else if (char === '?') {
      out += '.';
    } else if (char === '[') {
      const end = pattern.indexOf(']', index + 2);
      if (end < 0) throw new GlobSyntaxError(`"${pattern}": unterminated character class`);
      let body = pattern.slice(index + 1, end);
      const negated = body.startsWith('!');
      if (negated) body = body.slice(1);
      if (body === '') throw new GlobSyntaxError(`"${pattern}": empty character class`);
      out += `[${negated ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      index = end;
    } else if (char === '{') {
      depth += 1;
      out += '(?:';
    } else if (char === '}' && depth > 0) {
      depth -= 1;
      out += ')';
    } else if (char === ',' && depth > 0) {
      out += '|';
    } else {
      out += escapeRegExp(char);
    }
  }
  if (depth !== 0) throw new GlobSyntaxError(`"${pattern}": unterminated {…} group`);
  return out;
}

/** Compiles a glob into a predicate; throws GlobSyntaxError when it does not compile. */
export function compileGlob(pattern: string): (value: string) => boolean {
  const expression = new RegExp(`^${translate(pattern)}$`, 's');
  return (value) => expression.test(value);
}
