import { describe, expect, it } from 'vitest';
import { COMMANDS, GLOBAL_FLAGS, type FlagSpec } from '../../src/cli/commands.js';
import { COMPLETION_COMMAND, groupDescription, helpRequest, renderHelp } from '../../src/cli/help.js';

const NAME = 'kubectl teleport-argocd';
const WIDTH = 100;
const GROUPS = [...new Set(COMMANDS.filter((spec) => spec.path.length > 1).map((spec) => spec.path[0]!))];

/** The lines of one section (`Options:`), up to the next blank line. */
function sectionLines(help: string, title: string): string[] {
  const lines = help.split('\n');
  const start = lines.indexOf(`${title}:`);
  if (start === -1) return [];
  const end = lines.indexOf('', start);
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

/** Each flag's rows in the Options section, joined into one line of words. */
function flagEntries(help: string): Map<string, string> {
  const entries = new Map<string, string>();
  let current: string | undefined;
  for (const line of sectionLines(help, 'Options')) {
    const start = /^ {2}(?:-(\w), | {4})--([\w-]+)\s/.exec(line);
    if (start) {
      current = start[2]!;
      entries.set(current, '');
    }
    entries.set(current!, `${entries.get(current!)} ${line.trim()}`.trim());
  }
  return entries;
}

const words = (text: string) => text.split(/\s+/).filter(Boolean).join(' ');

function expectFlag(entries: Map<string, string>, flag: FlagSpec): void {
  const entry = entries.get(flag.name);
  expect(entry, `--${flag.name}`).toBeDefined();
  expect(entry!.startsWith(`${flag.alias ? `-${flag.alias}, ` : ''}--${flag.name} `), `--${flag.name} alias`).toBe(true);
  expect(words(entry!), `--${flag.name} description`).toContain(words(flag.describe));
  expect(entry, `--${flag.name} type`).toContain(`[${flag.type}]`);
  expect(entry!.includes('[required]'), `--${flag.name} required`).toBe(Boolean(flag.demand));
  if (flag.default === undefined) expect(entry, `--${flag.name} default`).not.toContain('[default:');
  else expect(entry, `--${flag.name} default`).toContain(`[default: ${JSON.stringify(flag.default)}]`);
}

describe('help rendered from the registry', () => {
  it.each(COMMANDS.map((spec) => [spec.path.join(' '), spec] as const))('describes `%s` with every flag', (_, spec) => {
    const help = renderHelp(spec.path, NAME, WIDTH);
    expect(help.split('\n')[0]).toBe(spec.describe);
    expect(help).toContain(`\nUsage: ${NAME} ${spec.path.join(' ')}${spec.positional ? ` [${spec.positional.name.toUpperCase()}...]` : ''} [flags]\n`);
    const entries = flagEntries(help);
    const flags = [{ name: 'help', alias: 'h', type: 'boolean', describe: 'Show help' } as FlagSpec, ...GLOBAL_FLAGS, ...spec.flags];
    expect([...entries.keys()]).toEqual(flags.map((flag) => flag.name));
    for (const flag of flags) expectFlag(entries, flag);
    if (spec.positional) expect(words(sectionLines(help, 'Positionals').join(' '))).toContain(`${spec.positional.name} ${words(spec.positional.describe)}`);
    else expect(help).not.toContain('Positionals:');
    const examples = words(sectionLines(help, 'Examples').join(' '));
    for (const [command, describe] of spec.examples ?? []) {
      expect(examples).toContain(words(command.replace('$0', NAME)));
      expect(examples).toContain(words(describe));
    }
    if (!spec.examples) expect(help).not.toContain('Examples:');
  });

  it('lists every command, group and `completion` at the root, and names the binary as invoked', () => {
    const help = renderHelp([], NAME, WIDTH);
    expect(help.startsWith(`${NAME} connects Argo CD`)).toBe(true);
    expect(help).toContain(`Usage: ${NAME} <command> [flags]`);
    const commands = words(sectionLines(help, 'Commands').join(' '));
    for (const spec of COMMANDS.filter((command) => command.path.length === 1)) expect(commands).toContain(`${spec.path[0]}${spec.positional ? ' [GLOBS...]' : ''} ${words(spec.describe)}`);
    for (const group of GROUPS) expect(commands).toContain(`${group} <check> ${groupDescription(group)}`);
    expect(commands).toContain(`${COMPLETION_COMMAND.usage} ${COMPLETION_COMMAND.describe}`);
    expect([...flagEntries(help).keys()]).toEqual(['help', ...GLOBAL_FLAGS.map((flag) => flag.name)]);
    expect(help).toContain(`Run '${NAME} <command> --help' for a command's flags.`);
  });

  it.each(GROUPS)('lists the members of the `%s` group', (group) => {
    const help = renderHelp([group], NAME, WIDTH);
    const members = COMMANDS.filter((spec) => spec.path[0] === group && spec.path.length > 1);
    expect(help).toContain(`Usage: ${NAME} ${group} <${members.map((spec) => spec.path[1]).join('|')}> [flags]`);
    const commands = words(sectionLines(help, 'Commands').join(' '));
    for (const spec of members) expect(commands).toContain(`${spec.path.join(' ')}${spec.positional ? ' [GLOBS...]' : ''} ${words(spec.describe)}`);
  });

  it('keeps the flag and command tables within the width', () => {
    for (const path of [[], ...GROUPS.map((group) => [group]), ...COMMANDS.map((spec) => spec.path)]) {
      const help = renderHelp(path, NAME, WIDTH);
      for (const line of [...sectionLines(help, 'Options'), ...sectionLines(help, 'Commands')]) expect(line.length, line).toBeLessThanOrEqual(WIDTH);
    }
  });
});

describe('helpRequest', () => {
  it.each([
    [['--help'], []],
    [['-h'], []],
    [['sync', '--help'], ['sync']],
    [['--help', 'sync'], ['sync']],
    [['-n', 'x', 'sync', '-h'], ['sync']],
    [['sync', 'prod-*', 'eu-*', '--help'], ['sync']],
    [['sync', '--dry-run', '--help'], ['sync']],
    [['list', '-o', 'xml', '--help'], ['list']],
    [['--context', 'sync', '--help'], []],
    [['nope', '--help'], []],
    [['nope', 'sync', '--help'], []],
    [['check', '--help'], ['check']],
    [['check', 'nope', '--help'], ['check']],
    [['check', 'join', '--help'], ['check', 'join']],
    [['check', 'join', 'impersonation', '--help'], ['check', 'join']],
    [['completion', 'bash', '--help'], ['completion']],
    [['--help=true', 'list'], ['list']],
  ])('%j asks for help on %j', (args, path) => {
    expect(helpRequest(args)).toEqual(path);
  });

  it.each([[[]], [['sync']], [['sync', '--', '--help']], [['sync', '--help=false']], [['join', '--cluster-name', 'x']]])('%j does not ask for help', (args) => {
    expect(helpRequest(args)).toBeUndefined();
  });
});
