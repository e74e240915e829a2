// The yargs frame: global flags, one yargs command per registry entry, and errors mapped
// to exit codes. Help is rendered by ./help.js from the registry (main.ts answers `--help`
// before loading this module), so yargs is told nothing about layout, usage or examples.
import yargs, { type Argv } from 'yargs';
import { COMMANDS, GLOBAL_FLAGS, type CommandArgs, type CommandSpec, type FlagSpec } from './commands.js';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, errorMessage } from './errors.js';
import { createRuntime, parseGlobalOptions, type RawGlobalArgs } from './globals.js';
import { COMPLETION_COMMAND, groupDescription, renderHelp } from './help.js';
import { colorEnabled, Log } from './log.js';

function addFlag(parser: Argv, flag: FlagSpec, global: boolean): Argv {
  return parser.option(flag.name, {
    alias: flag.alias,
    type: flag.type,
    describe: flag.describe,
    default: flag.default,
    demandOption: flag.demand ? true : undefined,
    global,
    requiresArg: flag.type === 'boolean' || flag.name === 'dry-run' ? undefined : true,
    ...(flag.type === 'array' ? { string: true, nargs: 1 } : {}),
  });
}

/** `--dry-run` may be given bare (kubectl: means client); yargs must not swallow the next word. */
function preprocess(args: string[]): string[] {
  return args.map((arg) => (arg === '--dry-run' ? '--dry-run=' : arg));
}


export async function runCli(args: string[], commandName: string): Promise<number> {
  const bootstrapLog = new Log(args.includes('-v') || args.includes('--verbose'), colorEnabled('auto'));
  let exitCode = EXIT_OK;

  const runCommand = (spec: CommandSpec) => async (argv: Record<string, unknown>) => {
    if (argv.help) {
      // Forms main.ts does not spot (`-vh`, `--help=true`) still get help, not a run.
      process.stdout.write(renderHelp(spec.path, commandName));
      return;
    }
    for (const flag of [...GLOBAL_FLAGS, ...spec.flags]) {
      const value = argv[flag.name];
      if (!Array.isArray(value)) continue;
      if (flag.type === 'array') {
        // yargs leaves `[undefined]` for an array flag that was not given.
        const values = value.filter((entry) => entry !== undefined).map(String);
        argv[flag.name] = values.length > 0 ? values : undefined;
      } else {
        // A single-valued flag given twice: the last one wins, as with kubectl.
        argv[flag.name] = value[value.length - 1];
      }
    }
    const globals = parseGlobalOptions(argv as RawGlobalArgs);
    const runtime = createRuntime(globals, commandName);
    if (!spec.outputs.includes(globals.output as never)) {
      throw new UsageError(
        `unable to match a printer suitable for the output format "${globals.output}", allowed formats are: ${[...spec.outputs].sort().join(',')}`,
      );
    }
    for (const flag of spec.flags) {
      if (flag.type === 'number' && argv[flag.name] !== undefined && !Number.isFinite(argv[flag.name])) {
        throw new UsageError(`invalid value for --${flag.name}: must be a number`);
      }
    }
    // Every command talks to a cluster over TLS. When node:tls loads, Node starts parsing its
    // root certificates on another thread, and the first TLS context waits for that parse:
    // loading it before the command's modules (and the Kubernetes client) lets the two overlap.
    process.getBuiltinModule('node:tls');
    const module = await spec.load();
    exitCode = await module.run(argv as CommandArgs, runtime);
  };

  let parser: Argv = yargs(preprocess(args))
    .scriptName(commandName)
    .parserConfiguration({ 'camel-case-expansion': false, 'strip-aliased': false, 'boolean-negation': false })
    .strict()
    .version(false)
    .help(false)
    .option('help', { alias: 'h', type: 'boolean', global: true })
    .exitProcess(false)
    .fail((message, error) => {
      if (error && error.name !== 'YError') throw error;
      throw new UsageError(usageMessage(message ?? error?.message ?? 'invalid usage', args));
    });
  for (const flag of GLOBAL_FLAGS) parser = addFlag(parser, flag, true);

  const groups = new Map<string, CommandSpec[]>();
  for (const spec of COMMANDS) {
    if (spec.path.length === 1) {
      parser = parser.command(commandLine(spec), spec.describe, (sub) => buildCommand(sub, spec), runCommand(spec));
    } else {
      const group = groups.get(spec.path[0]!) ?? [];
      group.push(spec);
      groups.set(spec.path[0]!, group);
    }
  }
  for (const [group, specs] of groups) {
    parser = parser.command(`${group} <check>`, groupDescription(group), (sub) => {
      let nested = sub;
      for (const spec of specs) {
        nested = nested.command(commandLine(spec), spec.describe, (leaf) => buildCommand(leaf, spec), runCommand(spec));
      }
      return nested.demandCommand(1, `${group}: name what to check (${specs.map((spec) => spec.path[1]).join(' or ')})`);
    });
  }
  parser = parser.command(COMPLETION_COMMAND.usage, COMPLETION_COMMAND.describe).demandCommand(1, 'name a command');

  try {
    await parser.parseAsync();
  } catch (error) {
    if (error instanceof CliError) {
      bootstrapLog.error(error.message);
      if (error.exitCode === EXIT_USAGE) process.stderr.write(`See '${commandName} ${helpTarget(args)}--help' for usage.\n`);
      return error.exitCode;
    }
    bootstrapLog.error(errorMessage(error));
    if (bootstrapLog.isVerbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return EXIT_FAILURE;
  }
  return exitCode;

  function commandLine(spec: CommandSpec): string {
    const name = spec.path[spec.path.length - 1]!;
    return spec.positional ? `${name} [${spec.positional.name}..]` : name;
  }

  function buildCommand(sub: Argv, spec: CommandSpec): Argv {
    let built = sub.strict();
    if (spec.positional) built = built.positional(spec.positional.name, { describe: spec.positional.describe, type: 'string', array: true });
    for (const flag of spec.flags) built = addFlag(built, flag, false);
    return built;
  }
}

/** yargs' wording, adjusted to kubectl's (`unknown flag: --x`). */
function usageMessage(message: string, args: string[]): string {
  const unknown = /^Unknown arguments?: (.*)$/.exec(message);
  if (unknown) {
    const asTyped = (name: string): string =>
      args.find((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`) || arg === `-${name}`)?.split('=')[0] ?? name;
    const names = unknown[1]!.split(', ').map(asTyped);
    return names.length === 1 ? `unknown flag or argument: ${names[0]}` : `unknown flags or arguments: ${names.join(', ')}`;
  }
  const missing = /^Missing required arguments?: (.*)$/.exec(message);
  if (missing) return `required flag(s) not set: ${missing[1]!.split(', ').map((name) => `--${name}`).join(', ')}`;
  const notEnough = /^Not enough arguments following: (.*)$/.exec(message);
  if (notEnough) return `flag needs an argument: --${notEnough[1]}`;
  return message.charAt(0).toLowerCase() + message.slice(1);
}

function helpTarget(args: string[]): string {
  const words: string[] = [];
  for (const arg of args) {
    if (arg.startsWith('-')) break;
    words.push(arg);
    if (words.length === 2 || (words[0] !== 'check')) break;
  }
  const known = COMMANDS.some((spec) => spec.path.join(' ') === words.join(' ')) || words[0] === 'check';
  return known && words.length > 0 ? `${words.join(' ')} ` : '';
}
