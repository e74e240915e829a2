import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolatedEnv, onPath, pluginPathDir, runCommand, runPlugin, runThroughKubectl } from '../support/run.js';

const { version, devDependencies } = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync('package.json', 'utf8'))) as {
  version: string;
  devDependencies: { node: string };
};
const escape = (text: string): string => text.replace(/\./g, '\\.');

describe('the binary', () => {
  it('prints its version', async () => {
    const result = await runPlugin(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `kubectl-teleport-argocd v${version}\n`, stderr: '' });
    const verbose = await runPlugin(['--version', '-v']);
    // The binary runs the Node the project pins, not whichever Node runs the tests.
    expect(verbose.stdout).toMatch(new RegExp(`^kubectl-teleport-argocd v${escape(version)} \\(node v${escape(devDependencies.node)}, `));
  });

  it('runs as a kubectl plugin and names itself that way in help', async () => {
    const versionResult = await runThroughKubectl(['--version']);
    expect(versionResult.code).toBe(0);
    expect(versionResult.stdout).toBe(`kubectl-teleport-argocd v${version}\n`);
    const help = await runThroughKubectl(['sync', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: kubectl teleport-argocd sync');
    const direct = await runPlugin(['sync', '--help']);
    expect(direct.stdout).toContain('Usage: kubectl-teleport-argocd sync');
    expect(direct.stdout).not.toContain('kubectl teleport-argocd');
  });

  it('lists every command in help', async () => {
    const help = await runPlugin(['--help']);
    for (const command of ['sync', 'list', 'clean', 'join', 'check', 'completion']) expect(help.stdout).toContain(` ${command}`);
    const check = await runPlugin(['check', '--help']);
    expect(check.stdout).toContain('join');
    expect(check.stdout).toContain('impersonation');
  });

  it('exits 2 with one error line on usage errors', async () => {
    for (const args of [
      ['sync', '--bogus'],
      ['list', '-o', 'xml'],
      ['sync', '--request-timeout', 'soon'],
      ['sync', '--color', 'purple'],
      ['join'],
      ['nope'],
      ['check'],
      ['sync', '--dry-run=maybe'],
      ['sync', '--cluster-resources'],
      ['sync', '--secret-prefix', 'Bad_Prefix'],
      ['sync', '--interval', '500ms', '--watch'],
      ['list', '-n', 'Not_A_Namespace'],
      ['clean', '--owner', 'argocd'],
      ['clean', '-o', 'name'],
    ]) {
      const result = await runPlugin(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.split('\n')[0], args.join(' ')).toMatch(/^error: /);
      expect(result.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe('');
    }
  });

  it('exits 1 with a clear error when the kubeconfig is unusable', async () => {
    const env = isolatedEnv();
    const file = path.join(env.HOME!, 'broken.yaml');
    writeFileSync(file, 'clusters: [\n');
    const broken = await runPlugin(['sync', '--kubeconfig', file], { env });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(new RegExp(`^error: error loading kubeconfig "${file}": line \\d+`));
    const missing = await runPlugin(['sync', '--kubeconfig', path.join(env.HOME!, 'nope')], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('does not exist');
  });

  it('prints completion scripts and serves __complete', async () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const script = await runPlugin(['completion', shell]);
      expect(script.code).toBe(0);
      expect(script.stdout).toContain('__complete');
    }
    expect((await runPlugin(['completion', 'tcsh'])).code).toBe(2);
    const commands = await runPlugin(['__complete', '']);
    expect(commands.stdout.split('\n')).toEqual(expect.arrayContaining(['sync', 'list', 'clean', 'join', 'check', ':4']));
    const cleanFlags = await runPlugin(['__complete', 'clean', '--']);
    expect(cleanFlags.stdout.split('\n')).toEqual(expect.arrayContaining(['--owner', '--stale-after', '--include-targeted', '--dry-run', '--output']));
    expect((await runPlugin(['__complete', 'clean', '--owner', ''])).stdout).toBe('tbot\nkubectl-teleport-argocd\n:4\n');
    expect((await runPlugin(['__complete', 'clean', '--dry-run', 's'])).stdout).toBe('server\n:4\n');
    const checks = await runPlugin(['__complete', 'check', 'i']);
    expect(checks.stdout).toBe('impersonation\n:4\n');
    const output = await runPlugin(['__complete', 'list', '-o', '']);
    expect(output.stdout.split('\n')).toEqual(expect.arrayContaining(['json', 'yaml', 'wide']));
  });

  it('completes context names from the kubeconfig for --context, through the kubectl completion helper name', async () => {
    const env = isolatedEnv();
    const file = path.join(env.HOME!, 'config');
    writeFileSync(file, 'contexts:\n- name: alpha\n  context: {cluster: a, user: a}\n- name: beta\n  context: {cluster: b, user: b}\n');
    const result = await runPlugin(['__complete', 'sync', '--kubeconfig', file, '--context', ''], { env });
    expect(result.stdout).toBe('alpha\nbeta\n:4\n');
    // kubectl ≥ 1.26 runs `kubectl_complete-teleport_argocd` for `kubectl teleport-argocd <TAB>`.
    const helper = path.join(env.HOME!, 'kubectl_complete-teleport_argocd');
    writeFileSync(helper, `#!/bin/sh\nexec "${path.resolve('dist/kubectl-teleport-argocd')}" __complete "$@"\n`, { mode: 0o755 });
    const viaKubectl = await runCommand('kubectl', ['__complete', 'teleport-argocd', 'ch'], { env: { ...env, PATH: `${env.HOME}:${pluginPathDir()}:${env.PATH}` } });
    expect(viaKubectl.stdout).toContain('check');
  });

  describe('fish completion under krew\'s name, when only `kubectl-teleport_argocd` is on PATH', () => {
    const krewEnv = () => {
      const env = isolatedEnv();
      const krewPath = { ...env, PATH: `${pluginPathDir()}${path.delimiter}${env.PATH ?? ''}` };
      // Our own name must not be on PATH, or calling it by that name would go unnoticed.
      expect(onPath('kubectl-teleport-argocd', krewPath.PATH)).toBe(false);
      expect(onPath('kubectl-teleport_argocd', krewPath.PATH)).toBe(true);
      return krewPath;
    };

    it('registers both names and calls the command as typed', async () => {
      const script = await runCommand('kubectl-teleport_argocd', ['completion', 'fish'], { env: krewEnv() });
      expect(script.code).toBe(0);
      expect(script.stdout).toMatch(/^complete -c kubectl-teleport_argocd /m);
      expect(script.stdout).toMatch(/^complete -c kubectl-teleport-argocd /m);
      expect(script.stdout).toMatch(/^\s+set -l command \$words\[1\]$/m);
      expect(script.stdout).not.toMatch(/^\s+kubectl-teleport[-_]argocd __complete/m);
    });

    it.skipIf(!onPath('fish', process.env.PATH))('completes in a real fish', async () => {
      const env = krewEnv();
      const fish = (line: string) =>
        runCommand('fish', ['--no-config', '-c', `kubectl-teleport_argocd completion fish | source; complete -C ${JSON.stringify(line)}`], { env });
      expect((await fish('kubectl-teleport_argocd ch')).stdout.split('\n')).toContain('check');
      expect((await fish('kubectl-teleport_argocd check i')).stdout.split('\n')).toContain('impersonation');
      const outputs = (await fish('kubectl-teleport_argocd list -o ')).stdout.split('\n');
      expect(outputs).toEqual(expect.arrayContaining(['json', 'yaml', 'wide']));
    });
  });
});
