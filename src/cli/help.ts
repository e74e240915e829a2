// Help text, rendered straight from the command registry: `--help` must not pay for
// loading and laying out yargs (about half of the start-up time of a help request).
// Layout follows yargs' (sections, `[type] [default: …]` annotations), so the frame and
// this module describe every command the same way.
import { COMMANDS, GLOBAL_FLAGS, type CommandSpec, type FlagSpec } from './commands.js';

/** The built-in `completion` command, which has no registry entry (it loads nothing). */
export const COMPLETION_COMMAND = { usage: 'completion <shell>', describe: 'Print a shell completion script (bash, zsh or fish)' };

const HELP_FLAG: FlagSpec = { name: 'help', alias: 'h', type: 'boolean', describe: 'Show help' };

/** Registry entries below a group word (`check`): `join`, `impersonation`. */
function groupMembers(group: string): CommandSpec[] {
  return COMMANDS.filter((spec) => spec.path.length > 1 && spec.path[0] === group);
}

export function groupDescription(group: string): string {
  return `Verify a setup: ${groupMembers(group).map((spec) => spec.path[1]).join(', ')}`;
}

function flagsTakingValues(path: string[]): Set<string> {
  const spec = COMMANDS.find((command) => command.path.join(' ') === path.join(' '));
  const names = new Set<string>();
  for (const flag of [...GLOBAL_FLAGS, ...(spec?.flags ?? [])]) {
    if (flag.type === 'boolean' || flag.name === 'dry-run') continue; // `--dry-run` may be bare
    names.add(`--${flag.name}`);
    if (flag.alias) names.add(`-${flag.alias}`);
  }
  return names;
}

/**
 * The command path whose help the arguments ask for, or undefined when they do not ask
 * for help. Like yargs: `-h`/`--help` anywhere before `--`; words that name no command
 * (`nope --help`, `sync a b --help`) fall back to the nearest known command or the root.
 */
export function helpRequest(args: string[]): string[] | undefined {
  const end = args.indexOf('--');
  const words = end === -1 ? args : args.slice(0, end);
  if (!words.some((arg) => arg === '--help' || arg === '-h' || (arg.startsWith('--help=') && arg !== '--help=false'))) return undefined;
  const path: string[] = [];
  let descending = true;
  for (let index = 0; index < words.length; index += 1) {
    const word = words[index]!;
    if (word.startsWith('-')) {
      if (!word.includes('=') && flagsTakingValues(path).has(word)) index += 1;
      continue;
    }
    const next = [...path, word];
    descending &&=
      (path.length === 0 && word === 'completion') ||
      COMMANDS.some((spec) => spec.path.slice(0, next.length).join(' ') === next.join(' '));
    if (descending) path.push(word);
  }
  return path;
}

/** `sync [GLOBS...]`: a command's words as typed, with its positional. */
function commandUsage(spec: CommandSpec): string {
  return `${spec.path.join(' ')}${spec.positional ? ` [${spec.positional.name.toUpperCase()}...]` : ''}`;
}

function annotations(flag: FlagSpec): string {
  const parts = [`[${flag.type}]`];
  if (flag.demand) parts.push('[required]');
  if (flag.default !== undefined) parts.push(`[default: ${JSON.stringify(flag.default)}]`);
  return parts.join(' ');
}

/** Words of `text` in lines of at most `width` characters (a longer word gets its own line). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.length > 0 ? lines : [''];
}

interface Row {
  left: string;
  text: string;
  /** Right-aligned at the end of the row, like yargs' `[string] [default: …]`. */
  right?: string;
}

/** Two columns, the text wrapped beside the left column; annotations right-aligned. */
function table(rows: Row[], width: number): string[] {
  const indent = '  ';
  const leftWidth = Math.max(...rows.map((row) => row.left.length)) + 2;
  const textWidth = Math.max(20, width - indent.length - leftWidth);
  const pad = ' '.repeat(indent.length + leftWidth);
  const out: string[] = [];
  for (const row of rows) {
    const lines = wrap(row.text, textWidth);
    if (row.right) {
      const last = lines[lines.length - 1]!;
      if (row.right.length < textWidth - last.length) lines[lines.length - 1] = `${last}${' '.repeat(textWidth - last.length - row.right.length)}${row.right}`;
      else lines.push(`${' '.repeat(Math.max(0, textWidth - row.right.length))}${row.right}`);
    }
    out.push(`${indent}${row.left.padEnd(leftWidth)}${lines[0]}`.trimEnd());
    for (const line of lines.slice(1)) out.push(`${pad}${line}`.trimEnd());
  }
  return out;
}

function flagRows(flags: FlagSpec[]): Row[] {
  return flags.map((flag) => ({
    left: `${flag.alias ? `-${flag.alias}, ` : '    '}--${flag.name}`,
    text: flag.describe,
    right: annotations(flag),
  }));
}

/** Examples: the command in the left column when it fits, else on its own line. */
function exampleLines(examples: Array<[string, string]>, commandName: string, width: number): string[] {
  const rows = examples.map(([command, describe]) => ({ left: command.replace('$0', commandName), text: describe }));
  const limit = Math.floor(width / 2);
  const short = rows.filter((row) => row.left.length + 4 <= limit);
  const leftWidth = Math.max(0, ...short.map((row) => row.left.length));
  const out: string[] = [];
  for (const row of rows) {
    if (row.left.length + 4 <= limit) {
      out.push(...table([{ left: row.left.padEnd(leftWidth), text: row.text }], width));
    } else {
      out.push(`  ${row.left}`, ...wrap(row.text, width - 6).map((line) => `      ${line}`));
    }
  }
  return out;
}

function section(title: string, lines: string[]): string {
  return lines.length > 0 ? `${title}:\n${lines.join('\n')}\n` : '';
}

/** Help for `path` (the root when empty), naming the binary as `commandName`. */
export function renderHelp(path: string[], commandName: string, width = Math.min(120, process.stdout.columns || 100)): string {
  const options = (flags: FlagSpec[]) => section('Options', table(flagRows([HELP_FLAG, ...GLOBAL_FLAGS, ...flags]), width));
  const blocks: string[] = [];
  const spec = COMMANDS.find((command) => command.path.join(' ') === path.join(' '));
  if (path.length === 0) {
    const groups = [...new Set(COMMANDS.filter((command) => command.path.length > 1).map((command) => command.path[0]!))];
    const rows: Row[] = [
      ...COMMANDS.filter((command) => command.path.length === 1).map((command) => ({ left: commandUsage(command), text: command.describe })),
      ...groups.map((group) => ({ left: `${group} <check>`, text: groupDescription(group) })),
      { left: COMPLETION_COMMAND.usage, text: COMPLETION_COMMAND.describe },
    ];
    blocks.push(
      `${commandName} connects Argo CD to Kubernetes clusters protected by Teleport.\n`,
      `Usage: ${commandName} <command> [flags]\n`,
      section('Commands', table(rows, width)),
      options([]),
      `Run '${commandName} <command> --help' for a command's flags.\n`,
    );
  } else if (path[0] === 'completion') {
    blocks.push(`${COMPLETION_COMMAND.describe}\n`, `Usage: ${commandName} completion <bash|zsh|fish>\n`, options([]));
  } else if (!spec) {
    const members = groupMembers(path[0]!);
    blocks.push(
      `${groupDescription(path[0]!)}\n`,
      `Usage: ${commandName} ${path[0]} <${members.map((member) => member.path[1]).join('|')}> [flags]\n`,
      section('Commands', table(members.map((member) => ({ left: commandUsage(member), text: member.describe })), width)),
      options([]),
    );
  } else {
    blocks.push(`${spec.describe}\n`, `Usage: ${commandName} ${commandUsage(spec)} [flags]\n`);
    if (spec.positional) {
      blocks.push(section('Positionals', table([{ left: spec.positional.name, text: spec.positional.describe, right: '[array] [default: []]' }], width)));
    }
    blocks.push(options(spec.flags), section('Examples', exampleLines(spec.examples ?? [], commandName, width)));
  }
  return blocks.filter(Boolean).join('\n');
}
