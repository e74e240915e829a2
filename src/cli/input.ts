// Files the user hands us by flag: a path, or `-` for standard input.
import { readFileSync } from 'node:fs';
import { CliError, errorMessage } from './errors.js';

/** Reads a `--…-file` value; `what` names it in errors ("token file"). */
export function readInputFile(path: string, what: string): { source: string; text: string } {
  const source = path === '-' ? 'stdin' : path;
  try {
    return { source, text: readFileSync(path === '-' ? 0 : path, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `${what} "${path}" does not exist` : `cannot read ${what} "${source}": ${errorMessage(error)}`);
  }
}
