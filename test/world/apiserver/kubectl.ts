// Runs the real kubectl against a stand-in cluster with an isolated HOME (its discovery
// and OpenAPI cache live in ~/.kube/cache) and KUBECONFIG.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `KUBECTL` overrides the binary (e.g. `kubectl.1.32` to bypass gcloud's version dispatcher). */
export const KUBECTL = process.env.KUBECTL ?? 'kubectl';

export class KubectlSandbox {
  private constructor(readonly dir: string) {}

  static async create(): Promise<KubectlSandbox> {
    return new KubectlSandbox(await mkdtemp(join(tmpdir(), 'kubectl-')));
  }

  get home(): string {
    return join(this.dir, 'home');
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  run(args: string[], options: { kubeconfig: string; input?: string; env?: Record<string, string> }): Promise<KubectlResult> {
    return new Promise((resolve) => {
      const child = execFile(
        KUBECTL,
        args,
        {
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.home, KUBECONFIG: options.kubeconfig, ...(options.env ?? {}) },
          maxBuffer: 64 * 1024 * 1024,
          timeout: 60_000,
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        },
      );
      if (options.input !== undefined) child.stdin?.end(options.input);
      else child.stdin?.end();
    });
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
