// GLOB arguments and glob-valued flags: compiled once, before any request; a pattern Argo
// CD's glob library could not compile either is a usage error naming the flag.
import { compileGlob, GlobSyntaxError } from '../util/glob.js';
import { argumentValues } from './commands.js';
import { UsageError } from './errors.js';

/** Matchers for the patterns of a repeatable argument (`GLOB`, `--exclude`, …). */
export function globArguments(value: unknown, flag: string): Array<(value: string) => boolean> {
  try {
    return argumentValues(value).map(compileGlob);
  } catch (error) {
    if (error instanceof GlobSyntaxError) throw new UsageError(`invalid ${flag} ${error.message}`);
    throw error;
  }
}
