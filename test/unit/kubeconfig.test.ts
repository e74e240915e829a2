import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/errors.js';
import { kubeconfigPaths, loadKubeconfig, resolveContext } from '../../src/kubeconfig/load.js';

function dir(): string {
  return mkdtempSync(path.join(tmpdir(), 'kubeconfig-'));
}

function config(name: string, server: string, extra = ''): string {
  return `apiVersion: v1
kind: Config
current-context: ${name}
clusters:
- name: ${name}
  cluster:
    server: ${server}
    certificate-authority: ca.pem
users:
- name: ${name}
  user:
    client-certificate: certs/${name}.crt
    client-key: /abs/${name}.key
    exec:
      command: ./bin/tsh
      args: [kube, credentials]
contexts:
- name: ${name}
  context:
    cluster: ${name}
    user: ${name}
    namespace: ns-${name}
${extra}`;
}

describe('kubeconfig loading', () => {
  it('merges KUBECONFIG first-wins, skipping missing files', () => {
    const base = dir();
    const a = path.join(base, 'a');
    const b = path.join(base, 'b');
    writeFileSync(a, config('one', 'https://one'));
    writeFileSync(b, config('two', 'https://two') + `- name: one\n  context:\n    cluster: two\n    user: two\n`);
    const loaded = loadKubeconfig({ env: { KUBECONFIG: [a, path.join(base, 'missing'), b].join(path.delimiter) }, cwd: base });
    expect(loaded.files).toEqual([a, b]);
    expect(loaded.currentContext).toBe('one');
    expect(loaded.contexts.get('one')!.value.cluster).toBe('one');
    expect(loaded.contexts.get('one')!.source).toBe(a);
    expect([...loaded.contexts.keys()].sort()).toEqual(['one', 'two']);
  });

  it('resolves relative paths against the file that holds them', () => {
    const base = dir();
    const file = path.join(base, 'config');
    writeFileSync(file, config('one', 'https://one'));
    const resolved = resolveContext(loadKubeconfig({ explicitPath: file }));
    expect(resolved.cluster['certificate-authority']).toBe(path.join(base, 'ca.pem'));
    expect(resolved.user['client-certificate']).toBe(path.join(base, 'certs/one.crt'));
    expect(resolved.user['client-key']).toBe('/abs/one.key');
    expect(resolved.user.exec!.command).toBe(path.join(base, 'bin/tsh'));
    expect(resolved.namespace).toBe('ns-one');
  });

  it('uses only --kubeconfig when given, and requires it to exist', () => {
    const base = dir();
    expect(() => loadKubeconfig({ explicitPath: path.join(base, 'nope'), env: {} })).toThrow(/does not exist/);
    expect(kubeconfigPaths({ explicitPath: 'x', cwd: '/w', env: { KUBECONFIG: '/a' } })).toEqual({ paths: ['/w/x'], explicit: true });
    expect(kubeconfigPaths({ env: {}, home: '/home/u' }).paths).toEqual(['/home/u/.kube/config']);
  });

  it('names file and line for malformed YAML', () => {
    const file = path.join(dir(), 'broken');
    writeFileSync(file, 'clusters:\n- name: a\n  cluster: {server: [\n');
    expect(() => loadKubeconfig({ explicitPath: file })).toThrow(new RegExp(`${file}.*line \\d+`));
  });

  it('rejects YAML of the wrong shape with the file named', () => {
    const file = path.join(dir(), 'shape');
    writeFileSync(file, 'clusters: 3\n');
    expect(() => loadKubeconfig({ explicitPath: file })).toThrow(/"clusters" must be a list/);
    writeFileSync(file, '- just\n- a list\n');
    expect(() => loadKubeconfig({ explicitPath: file })).toThrow(CliError);
  });

  it('explains an unknown context and an empty config', () => {
    const file = path.join(dir(), 'config');
    writeFileSync(file, config('one', 'https://one'));
    expect(() => resolveContext(loadKubeconfig({ explicitPath: file }), 'other')).toThrow(`context "other" does not exist in "${file}"`);
    const empty = path.join(dir(), 'empty');
    writeFileSync(empty, '');
    expect(() => resolveContext(loadKubeconfig({ explicitPath: empty }))).toThrow(/has no contexts/);
  });

  it('reads YAML as kubectl does: a repeated key (last wins), comments alone, not two documents', () => {
    const repeated = path.join(dir(), 'repeated');
    writeFileSync(repeated, `${config('one', 'https://one')}current-context: other\n`);
    expect(loadKubeconfig({ explicitPath: repeated }).currentContext).toBe('other');
    const comments = path.join(dir(), 'comments');
    writeFileSync(comments, '# nothing here yet\n');
    expect(loadKubeconfig({ explicitPath: comments }).contexts.size).toBe(0);
    const two = path.join(dir(), 'two');
    writeFileSync(two, `${config('one', 'https://one')}---\n${config('two', 'https://two')}`);
    expect(() => loadKubeconfig({ explicitPath: two })).toThrow(`error loading kubeconfig "${two}": it holds 2 YAML documents, not one`);
    const date = path.join(dir(), 'date');
    writeFileSync(date, config('2024-01-01', 'https://one'));
    expect([...loadKubeconfig({ explicitPath: date }).contexts.keys()]).toEqual(['2024-01-01']); // a string, not a date
  });

  it('falls back to the pod service account inside a pod', () => {
    const loaded = loadKubeconfig({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, home: dir() });
    expect(loaded.inCluster).toBe(true);
  });
});
