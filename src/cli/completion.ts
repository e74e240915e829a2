// Shell completion: scripts for bash, zsh and fish, and the `__complete` protocol that
// kubectl (≥ 1.26) uses through a `kubectl_complete-teleport_argocd` helper
// (kubectl-plugins.md §2.6): one candidate per line, then `:<directive>`.
import { COMMANDS, GLOBAL_FLAGS, type FlagSpec } from './commands.js';
import { UsageError } from './errors.js';

const DIRECTIVE_DEFAULT = 0;
const DIRECTIVE_NO_FILE = 4;

export function completionScript(shell: string, binary: string): string {
  const fn = `_${binary.replace(/[^A-Za-z0-9]/g, '_')}`;
  // The name it was started as, our own name and krew's link name.
  const names = [...new Set([binary, 'kubectl-teleport-argocd', 'kubectl-teleport_argocd'])];
  switch (shell) {
    case 'bash':
      return `# bash completion for ${binary}; load with: source <(${binary} completion bash)
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" out directive
  out=$("\${COMP_WORDS[0]}" __complete "\${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null) || return
  directive="\${out##*:}"
  out="\${out%:*}"
  COMPREPLY=( $(compgen -W "$out" -- "$cur") )
  if [ \${#COMPREPLY[@]} -eq 0 ] && [ "$directive" != "${DIRECTIVE_NO_FILE}" ]; then
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o default -F ${fn} ${names.join(' ')}
`;
    case 'zsh':
      return `#compdef ${names.join(' ')}
# zsh completion for ${binary}; load with: source <(${binary} completion zsh)
${fn}() {
  local -a candidates
  local out directive
  out=$("\${words[1]}" __complete "\${(@)words[2,CURRENT-1]}" "\${words[CURRENT]}" 2>/dev/null) || return 1
  directive="\${out##*:}"
  candidates=("\${(@f)\${out%:*}}")
  candidates=("\${(@)candidates:#}")
  if (( \${#candidates} )); then
    compadd -- "\${candidates[@]}"
  elif [[ "$directive" != "${DIRECTIVE_NO_FILE}" ]]; then
    _files
  fi
}
compdef ${fn} ${names.join(' ')}
`;
    case 'fish':
      // `$command` is the command as typed, so krew's `kubectl-teleport_argocd` calls itself.
      return `# fish completion for ${binary}; load with: ${binary} completion fish | source
function __${fn}_complete
    set -l words (commandline -opc)
    set -l command $words[1]
    set -e words[1]
    $command __complete $words (commandline -ct) 2>/dev/null | string match -v -r '^:[0-9]+$'
end
${names.map((name) => `complete -c ${name} -f -a '(__${fn}_complete)'`).join('\n')}
`;
    default:
      throw new UsageError(`unsupported shell "${shell}": use bash, zsh or fish`);
  }
}

function flagsOf(path: string[]): FlagSpec[] {
  const spec = COMMANDS.find((command) => command.path.join(' ') === path.join(' '));
  return [...GLOBAL_FLAGS, ...(spec?.flags ?? [])];
}

function findFlag(flags: FlagSpec[], word: string): FlagSpec | undefined {
  if (word.startsWith('--')) return flags.find((flag) => flag.name === word.slice(2));
  if (word.startsWith('-') && word.length === 2) return flags.find((flag) => flag.alias === word.slice(1));
  return undefined;
}

export interface CompletionSources {
  /** Context names of the kubeconfig the typed words point at (loaded only when asked for). */
  contexts(kubeconfig: string | undefined): Promise<string[]>;
}

/** Candidates for the last word, given the words typed before it. */
export async function complete(words: string[], current: string, sources: CompletionSources): Promise<string[]> {
  const path: string[] = [];
  let kubeconfig: string | undefined;
  for (let index = 0; index < words.length; index += 1) {
    const word = words[index]!;
    if (word.startsWith('-')) {
      const [name, inline] = word.split('=', 2);
      const flag = findFlag(flagsOf(path), name!);
      const value = inline ?? (flag && flag.type !== 'boolean' ? words[++index] : undefined);
      if (flag?.name === 'kubeconfig') kubeconfig = value;
      continue;
    }
    const next = [...path, word];
    if (COMMANDS.some((command) => command.path.slice(0, next.length).join(' ') === next.join(' '))) path.push(word);
  }
  const flags = flagsOf(path);
  const previous = words[words.length - 1];
  const pending = previous && !previous.includes('=') ? findFlag(flags, previous) : undefined;
  if (pending && pending.type !== 'boolean') return valueCandidates(pending, sources, kubeconfig);
  if (current.startsWith('-')) {
    return [...flags.map((flag) => `--${flag.name}`), '--help', ...(path.length === 0 ? ['--version'] : [])];
  }
  const children = new Set<string>();
  for (const command of COMMANDS) {
    if (command.path.length > path.length && command.path.slice(0, path.length).join(' ') === path.join(' ')) {
      children.add(command.path[path.length]!);
    }
  }
  if (path.length === 0) children.add('completion');
  return [...children];
}

async function valueCandidates(flag: FlagSpec, sources: CompletionSources, kubeconfig: string | undefined): Promise<string[]> {
  if (Array.isArray(flag.complete)) return flag.complete;
  if (flag.complete === 'contexts') return sources.contexts(kubeconfig);
  return [];
}

/** Output for `__complete`: candidates that start with the current word, then the directive. */
export async function completeOutput(args: string[], sources: CompletionSources): Promise<string> {
  const current = args[args.length - 1] ?? '';
  const words = args.slice(0, -1);
  const candidates = (await complete(words, current, sources)).filter((candidate) => candidate.startsWith(current));
  const previous = words[words.length - 1];
  const flag = previous ? findFlag(flagsOf([]), previous) ?? COMMANDS.flatMap((c) => c.flags).find((f) => `--${f.name}` === previous) : undefined;
  const directive = flag?.complete === 'files' ? DIRECTIVE_DEFAULT : DIRECTIVE_NO_FILE;
  return [...candidates, `:${directive}`].join('\n') + '\n';
}
