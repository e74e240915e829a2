// Entry point. Keeps start-up cheap: `--version`, help, `completion` and `__complete` never
// load yargs or the Kubernetes client; commands load their implementation when they run.
// The bundler keeps everything behind `import('./cli/frame.js')` out of the entry script
// (scripts/bundle.mjs), so these paths do not even compile it.
import path from 'node:path';
import { EXIT_USAGE } from './cli/errors.js';
import { VERSION } from './version.js';

/** The executable's own name, as started: `kubectl-teleport_argocd` under krew. */
function executableName(): string {
  return path.basename(process.argv0 || process.argv[1] || 'kubectl-teleport-argocd').replace(/\.exe$/i, '');
}

/** `kubectl teleport-argocd` when kubectl started us under the plugin name, else our own name. */
function invokedAs(executable: string): string {
  if (/^kubectl-[^-]*_/.test(executable)) return `kubectl ${executable.slice('kubectl-'.length).replace(/_/g, '-')}`;
  return executable.startsWith('kubectl-') ? executable : 'kubectl-teleport-argocd';
}

async function main(args: string[]): Promise<number> {
  const executable = executableName();
  const commandName = invokedAs(executable);
  if (args[0] === '--version' || (args.includes('--version') && args.every((arg) => arg.startsWith('-')))) {
    const verbose = args.includes('-v') || args.includes('--verbose');
    process.stdout.write(`kubectl-teleport-argocd v${VERSION}${verbose ? ` (node ${process.version}, ${process.platform}/${process.arch})` : ''}\n`);
    return 0;
  }
  if (args[0] === '__complete') {
    const { completeOutput } = await import('./cli/completion.js');
    const contexts = async (kubeconfig: string | undefined) => (await import('./kubeconfig/contexts.js')).contextNames(kubeconfig);
    process.stdout.write(await completeOutput(args.slice(1), { contexts }));
    return 0;
  }
  const { helpRequest, renderHelp } = await import('./cli/help.js');
  const helpPath = helpRequest(args);
  if (helpPath) {
    process.stdout.write(renderHelp(helpPath, commandName));
    return 0;
  }
  if (args[0] === 'completion' && args.length === 2 && !args[1]!.startsWith('-')) {
    const { completionScript } = await import('./cli/completion.js');
    const { CliError } = await import('./cli/errors.js');
    try {
      process.stdout.write(completionScript(args[1]!, executable.startsWith('kubectl-') ? executable : 'kubectl-teleport-argocd'));
      return 0;
    } catch (error) {
      if (error instanceof CliError) {
        process.stderr.write(`error: ${error.message}\n`);
        return error.exitCode;
      }
      throw error;
    }
  }
  const { runCli } = await import('./cli/frame.js');
  return runCli(args, commandName);
}

/** Resolves once everything written to `stream` so far has been handed to the OS. */
const flushed = (stream: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => stream.write('', () => resolve()));

/**
 * Ends the process once the output is out. Every command has finished its work when main
 * settles; ending on its own, Node would first take the whole runtime apart (~5 ms of `list`).
 */
async function exit(code: number): Promise<never> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

main(process.argv.slice(2)).then(exit, (error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return exit(error instanceof Error && 'exitCode' in error ? Number((error as { exitCode: number }).exitCode) : EXIT_USAGE - 1);
});
