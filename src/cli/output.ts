// Printers for results on stdout: kubectl-style tables, JSON (4-space indent), YAML, names.
import columnify from 'columnify';
import { UsageError } from './errors.js';

export const API_VERSION = 'teleport-argocd/v1alpha1';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'name';

export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number | boolean | null | undefined;
  /** Shown only with `-o wide`. */
  wide?: boolean;
}

export interface TableOptions {
  wide?: boolean;
  noHeaders?: boolean;
}

export function parseOutputFormat(value: string, allowed: readonly OutputFormat[]): OutputFormat {
  if ((allowed as readonly string[]).includes(value)) return value as OutputFormat;
  throw new UsageError(
    `unable to match a printer suitable for the output format "${value}", allowed formats are: ${[...allowed].sort().join(',')}`,
  );
}

/** Makes a cell safe for a terminal (as kubectl does): first line only, no escape sequences. */
function cell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined || value === '') return '<none>';
  let text = String(value);
  const newline = text.search(/[\r\n]/);
  if (newline >= 0) text = `${text.slice(0, newline)}...`;
  return text.replace(/\x1b/g, '^[');
}

export function renderTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[], options: TableOptions = {}): string {
  const shown = columns.filter((column) => options.wide || !column.wide);
  const data = rows.map((row) => Object.fromEntries(shown.map((column) => [column.header, cell(column.value(row))])));
  if (data.length === 0 && options.noHeaders) return '';
  const text = columnify(data, {
    columns: shown.map((column) => column.header),
    columnSplitter: '   ',
    showHeaders: !options.noHeaders,
    preserveNewLines: false,
    config: Object.fromEntries(shown.map((column) => [column.header, { maxWidth: Number.MAX_SAFE_INTEGER }])),
  });
  // columnify pads the last column; kubectl does not.
  return `${text.split('\n').map((line) => line.trimEnd()).join('\n')}\n`;
}

export function renderJson(document: unknown): string {
  return `${JSON.stringify(document, null, 4)}\n`;
}

/** Writes to stdout and resolves when flushed; a closed pipe (`| head`) is not an error. */
export function writeStdout(text: string): Promise<void> {
  if (text === '') return Promise.resolve();
  return new Promise((resolve) => {
    process.stdout.write(text, () => resolve());
  });
}

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
