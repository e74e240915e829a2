// Runs the built binary (directly, or as a kubectl plugin through the real kubectl).
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const BINARY = path.resolve('dist/kubectl-teleport-argocd');

/** Whether `command` resolves on `PATH` (a list of directories). */
export function onPath(command: string, PATH = ''): boolean {
  return PATH.split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Whether to skip a test that needs these Debian tools: where one is missing on a developer's
 * machine, but never in CI, where .ci/run installs them and the test must run (or fail).
 */
export function missingOutsideCi(...commands: string[]): boolean {
  return !process.env.CI && commands.some((command) => !onPath(command, process.env.PATH));
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  cwd?: string;
}

export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** A HOME with no kubeconfig, so nothing from the machine leaks into a test. */
export function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(path.join(tmpdir(), 'tpa-home-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, NO_COLOR: '1', ...extra };
  return env;
}

export function runPlugin(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return runCommand(BINARY, args, { ...options, env: options.env ?? isolatedEnv() });
}

/** A directory holding `kubectl-teleport_argocd` → the built binary, as krew links it. */
export function pluginPathDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tpa-bin-'));
  mkdirSync(dir, { recursive: true });
  symlinkSync(BINARY, path.join(dir, 'kubectl-teleport_argocd'));
  return dir;
}

/** `kubectl teleport-argocd …` through the real kubectl, with the plugin on PATH. */
export function runThroughKubectl(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const env = options.env ?? isolatedEnv();
  return runCommand('kubectl', ['teleport-argocd', ...args], {
    ...options,
    env: { ...env, PATH: `${pluginPathDir()}${path.delimiter}${env.PATH ?? ''}` },
  });
}
