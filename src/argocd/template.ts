// Go text/template reduced to what tbot's Argo CD output offers its templates
// (`cluster_name_template`, `secret_labels`, `secret_annotations`): the fields `.ClusterName`
// (Teleport cluster) and `.KubeName`, and the kube cluster's Teleport labels as
// `{{index .Labels "KEY"}}` or `{{.Labels.KEY}}`, with Go's `{{- ` / ` -}}` whitespace
// trimming. Anything else fails to parse, so a bad flag is a usage error before any
// request (product.md §4). The one template engine of the plugin.

export type TemplateField = 'ClusterName' | 'KubeName';

type Piece = { kind: 'text'; text: string } | { kind: 'field'; field: TemplateField } | { kind: 'label'; key: string };

export interface SecretTemplate {
  readonly source: string;
  readonly pieces: readonly Piece[];
  /** Rendering needs the kube cluster's Teleport labels. */
  readonly usesLabels: boolean;
}

export interface TemplateData {
  clusterName: string;
  kubeName: string;
  labels: Readonly<Record<string, string>>;
}

const TEMPLATE_CONSTRUCTS = '{{.ClusterName}}, {{.KubeName}}, {{index .Labels "KEY"}} and {{.Labels.KEY}}';

export class TemplateSyntaxError extends Error {}

const GO_SPACE = /[ \t\r\n]/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Splits an action's body into words, keeping quoted strings whole; null when a quote is left open. */
function words(body: string): string[] | null {
  const found: string[] = [];
  let index = 0;
  while (index < body.length) {
    if (GO_SPACE.test(body[index]!)) {
      index += 1;
      continue;
    }
    const quote = body[index];
    let end = index + 1;
    if (quote === '"') {
      while (end < body.length && body[end] !== '"') end += body[end] === '\\' ? 2 : 1;
      if (end >= body.length) return null;
      end += 1;
    } else if (quote === '`') {
      end = body.indexOf('`', end);
      if (end === -1) return null;
      end += 1;
    } else {
      while (end < body.length && !GO_SPACE.test(body[end]!)) end += 1;
    }
    found.push(body.slice(index, end));
    index = end;
  }
  return found;
}

/** A Go string literal's value: "interpreted" (JSON-compatible escapes) or `raw`. */
function stringLiteral(word: string): string | null {
  if (word.startsWith('`')) return word.slice(1, -1);
  if (!word.startsWith('"')) return null;
  try {
    return JSON.parse(word) as string;
  } catch {
    return null;
  }
}

function parseAction(body: string, action: string): Piece {
  const parts = words(body);
  const unsupported = new TemplateSyntaxError(`unsupported template action ${action}: only ${TEMPLATE_CONSTRUCTS} may be used`);
  if (!parts) throw new TemplateSyntaxError(`unterminated string in template action ${action}`);
  if (parts.length === 1) {
    const [first, second, third] = parts[0]!.split('.');
    if (first !== '' || second === undefined) throw unsupported;
    if ((second === 'ClusterName' || second === 'KubeName') && third === undefined) return { kind: 'field', field: second };
    if (second === 'Labels' && third !== undefined && IDENTIFIER.test(third) && parts[0] === `.Labels.${third}`) return { kind: 'label', key: third };
    throw unsupported;
  }
  if (parts.length === 3 && parts[0] === 'index' && parts[1] === '.Labels') {
    const key = stringLiteral(parts[2]!);
    if (key !== null) return { kind: 'label', key };
  }
  throw unsupported;
}

/** The index of the `}}` closing an action that starts at `from`, skipping quoted strings; -1 when none. */
function closingDelimiter(source: string, from: number): number {
  for (let index = from; index < source.length - 1; index += 1) {
    const char = source[index];
    if (char === '"') {
      index += 1;
      while (index < source.length && source[index] !== '"') index += source[index] === '\\' ? 2 : 1;
    } else if (char === '`') {
      const end = source.indexOf('`', index + 1);
      if (end === -1) return -1;
      index = end;
    } else if (char === '}' && source[index + 1] === '}') {
      return index;
    }
  }
  return -1;
}

export function parseTemplate(source: string): SecretTemplate {
  const pieces: Piece[] = [];
  let position = 0;
  let trimLeading = false;
  for (;;) {
    const open = source.indexOf('{{', position);
    let text = source.slice(position, open === -1 ? undefined : open);
    if (trimLeading) text = text.replace(/^[ \t\r\n]+/, '');
    if (open === -1) {
      if (text !== '') pieces.push({ kind: 'text', text });
      break;
    }
    let bodyStart = open + 2;
    // Go's trim markers are "{{- " and " -}}": the dash needs the space to be one.
    if (source[bodyStart] === '-' && GO_SPACE.test(source[bodyStart + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      bodyStart += 2;
    }
    if (text !== '') pieces.push({ kind: 'text', text });
    const close = closingDelimiter(source, bodyStart);
    if (close === -1) throw new TemplateSyntaxError(`unclosed template action in "${source}" (missing "}}")`);
    let bodyEnd = close;
    trimLeading = close - 2 >= bodyStart && source[close - 1] === '-' && GO_SPACE.test(source[close - 2]!);
    if (trimLeading) bodyEnd = close - 2;
    pieces.push(parseAction(source.slice(bodyStart, bodyEnd), source.slice(open, close + 2)));
    position = close + 2;
  }
  return { source, pieces, usesLabels: pieces.some((piece) => piece.kind === 'label') };
}

/** Renders a parsed template; a label the kube cluster does not have renders empty. */
export function renderTemplate(template: SecretTemplate, data: TemplateData): string {
  return template.pieces
    .map((piece) => {
      if (piece.kind === 'text') return piece.text;
      if (piece.kind === 'field') return piece.field === 'ClusterName' ? data.clusterName : data.kubeName;
      return Object.hasOwn(data.labels, piece.key) ? (data.labels[piece.key] ?? '') : '';
    })
    .join('');
}
