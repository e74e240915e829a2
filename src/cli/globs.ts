// GLOB arguments and glob-valued flags: compiled once, before any request; a pattern Argo
// CD's glob library could not compile either is a usage error naming the flag.
import { compileGlob, GlobSyntaxError } from '../util/glob.js';
import { UsageError } from './errors.js';

/** Matchers for the patterns of a repeatable argument (`GLOB`, `--exclude`, …). */
export function globArguments(value: unknown, flag: string): Array<(value: string) => boolean> {
  const patterns = value === undefined || value === null ? [] : (Array.isArray(value) ? value : [value]).map(String);
  try {
    return patterns.map(compileGlob);
  } catch (error) {
    if (error instanceof GlobSyntaxError) throw new UsageError(`invalid ${flag} ${error.message}`);
    throw error;
  }
}
