// Runs a kubeconfig exec credential plugin (client.authentication.k8s.io v1 / v1beta1)
// the way kubectl does, non-interactively, with a timeout. Errors name the command. The
// same runner serves other commands of those tools (`tsh kube ls` for label templates).
import path from 'node:path';
import type { ExecConfig } from './load.js';

export interface ExecCredentialResult {
  certPem: string | null;
  keyPem: string | null;
  token: string | null;
  expirationTimestamp: string | null;
}

const SUPPORTED_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];
const STDERR_LIMIT = 400;

/** How the command reads in messages: `tsh kube credentials --kube-cluster=a`. */
export function describeExecCommand(exec: ExecConfig): string {
  return [path.basename(exec.command), ...(exec.args ?? [])].join(' ');
}

function lastLines(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > STDERR_LIMIT ? `…${trimmed.slice(-STDERR_LIMIT)}` : trimmed;
}

/** Validates a plugin's stdout as an ExecCredential of the requested version. */
export function parseExecCredential(stdout: string, apiVersion: string, command: string): ExecCredentialResult {
  let document: unknown;
  try {
    document = JSON.parse(stdout);
  } catch {
    throw new Error(`exec plugin "${command}" did not print an ExecCredential (output is not JSON)`);
  }
  const credential = document as { apiVersion?: unknown; kind?: unknown; status?: Record<string, unknown> };
  if (credential?.kind !== 'ExecCredential') {
    throw new Error(`exec plugin "${command}" did not print an ExecCredential (kind is ${JSON.stringify(credential?.kind ?? null)})`);
  }
  if (credential.apiVersion !== apiVersion) {
    throw new Error(`exec plugin "${command}" answered with apiVersion ${JSON.stringify(credential.apiVersion)}, expected "${apiVersion}"`);
  }
  const status = credential.status ?? {};
  const text = (key: string): string | null => (typeof status[key] === 'string' && status[key] !== '' ? (status[key] as string) : null);
  const result = {
    certPem: text('clientCertificateData'),
    keyPem: text('clientKeyData'),
    token: text('token'),
    expirationTimestamp: text('expirationTimestamp'),
  };
  if (!result.token && !(result.certPem && result.keyPem)) {
    throw new Error(`exec plugin "${command}" returned neither a token nor a client certificate and key`);
  }
  return result;
}

/**
 * Runs an exec entry's command the way kubectl runs exec plugins: no terminal, the entry's
 * env on top of ours, killed after `timeoutMs`. Resolves with stdout; errors begin with
 * `what`, which names the command.
 */
export async function runExecCommand(exec: ExecConfig, timeoutMs: number, what: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const variable of exec.env ?? []) env[variable.name] = variable.value;
  Object.assign(env, extraEnv);

  const { stdout, stderr, code, timedOut, spawnError } = await new Promise<{
    stdout: string;
    stderr: string;
    code: number | null;
    timedOut: boolean;
    spawnError: NodeJS.ErrnoException | null;
  }>((resolve) => {
    // Loaded here, not at start-up: most runs start no process.
    const { spawn } = process.getBuiltinModule('node:child_process');
    const child = spawn(exec.command, exec.args ?? [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ stdout: out, stderr: err, code: null, timedOut: false, spawnError: error });
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ stdout: out, stderr: err, code: exitCode, timedOut, spawnError: null });
    });
  });

  if (spawnError) {
    const hint = exec.installHint ? ` (${exec.installHint.trim()})` : '';
    throw new Error(`${what} could not be started: ${spawnError.code === 'ENOENT' ? `${exec.command} not found` : spawnError.message}${hint}`);
  }
  if (timedOut) throw new Error(`${what} timed out after ${Math.round(timeoutMs / 1000)}s`);
  if (code !== 0) {
    const detail = lastLines(stderr);
    throw new Error(`${what} failed with exit code ${code}${detail ? `: ${detail}` : ''}`);
  }
  return stdout;
}

export async function runExecCredential(exec: ExecConfig, timeoutMs: number): Promise<ExecCredentialResult> {
  const command = describeExecCommand(exec);
  const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1beta1';
  if (!SUPPORTED_VERSIONS.includes(apiVersion)) {
    throw new Error(`exec plugin "${command}" uses unsupported apiVersion "${apiVersion}"`);
  }
  const stdout = await runExecCommand(exec, timeoutMs, `exec plugin "${command}"`, {
    KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion, kind: 'ExecCredential', spec: { interactive: false } }),
  });
  const result = parseExecCredential(stdout, apiVersion, command);
  if (result.expirationTimestamp !== null && Date.parse(result.expirationTimestamp) <= Date.now()) {
    throw new Error(`exec plugin "${command}" returned a credential that expired at ${result.expirationTimestamp}; log in again (tsh kube login) or check tbot`);
  }
  return result;
}
