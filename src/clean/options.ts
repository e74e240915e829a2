// `clean` flags → validated options. Every usage error is raised here, before any request.
import type { CommandArgs } from '../cli/commands.js';
import { parseDuration } from '../cli/duration.js';
import { UsageError } from '../cli/errors.js';
import { globArguments } from '../cli/globs.js';
import { parseOutputFormat, type OutputFormat } from '../cli/output.js';
import type { DryRun } from '../sync/apply.js';
import { parseDryRun, selected } from '../sync/options.js';
import { CLEAN_OWNERS, type CleanOwner } from './plan.js';

export interface CleanOptions {
  output: OutputFormat;
  owners: Set<CleanOwner>;
  staleAfterMs: number;
  dryRun: DryRun;
  /** `--dry-run` given the deprecated way (bare, true or false). */
  dryRunDeprecated: boolean;
  includeTargeted: boolean;
  selects: (names: Array<string | null>) => boolean;
}

function parseOwners(value: unknown): Set<CleanOwner> {
  if (value === undefined) return new Set(CLEAN_OWNERS);
  const owner = String(value);
  if (!(CLEAN_OWNERS as readonly string[]).includes(owner)) {
    throw new UsageError(`invalid value "${owner}" for --owner: must be ${CLEAN_OWNERS.join(' or ')}`);
  }
  return new Set([owner as CleanOwner]);
}

function parseGlobs(value: unknown): (names: Array<string | null>) => boolean {
  const include = globArguments(value, 'GLOB');
  return (names) => selected({ include, exclude: [] }, names);
}

export function parseCleanOptions(args: CommandArgs, output: string): CleanOptions {
  const { dryRun, deprecated } = parseDryRun(args['dry-run']);
  return {
    output: parseOutputFormat(output, ['table', 'json', 'yaml']),
    owners: parseOwners(args.owner),
    staleAfterMs: parseDuration(String(args['stale-after'] ?? '1h'), '--stale-after'),
    dryRun,
    dryRunDeprecated: deprecated,
    includeTargeted: Boolean(args['include-targeted']),
    selects: parseGlobs(args.globs),
  };
}
