import { CliError } from '../cli/errors.js';
import type { CommandArgs } from '../cli/commands.js';
import type { Runtime } from '../cli/globals.js';

export async function run(_args: CommandArgs, _runtime: Runtime): Promise<number> {
  throw new CliError('this command is not implemented yet');
}
