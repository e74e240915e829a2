import path from 'node:path';
import { expect, it } from 'vitest';
import { clusterSecretName } from '../../src/argocd/cluster-secret.js';
import { runCommand } from '../support/run.js';
import { TELEPORT_CLUSTER } from '../world/sandbox.js';

/** The lines a demo command printed, up to the next command or step. */
function outputOf(stdout: string, command: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.indexOf(`$ ${command}`);
  expect(start, `${command} ran`).toBeGreaterThanOrEqual(0);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => line.startsWith('$ ') || line === '');
  return end === -1 ? rest : rest.slice(0, end);
}

// `npm run demo` is the README's first command: it must keep working end to end.
it('runs the demo on the sandbox with every step behaving as expected', async () => {
  const result = await runCommand(path.resolve('node_modules/.bin/tsx'), ['scripts/demo.ts'], { timeoutMs: 170_000 });
  expect(result.stdout).not.toContain('!! exit code');
  expect(result.stdout).toContain('Demo finished: every step behaved as expected.');
  expect(result.stderr).toContain('check impersonation: 15 passed, 0 warnings, 0 failed, 0 skipped');
  // The label template step: only the region label changes, and the selector finds prod-eu alone.
  const secretOf = (kube: string) => clusterSecretName('teleport.argocd-cluster', { teleportCluster: TELEPORT_CLUSTER, kubeCluster: kube });
  expect(result.stdout).toContain(`~ secret/${secretOf('prod-eu')} (${TELEPORT_CLUSTER}/prod-eu)\n    metadata.labels.region: <none> → "eu"\n`);
  const selected = outputOf(result.stdout, 'kubectl get secrets -n argocd -l region=eu');
  expect(selected.some((line) => line.startsWith(`${secretOf('prod-eu')} `))).toBe(true);
  expect(selected.some((line) => line.includes(secretOf('staging')))).toBe(false);
  // The clean step: the dead registration nobody uses is deleted, the one an Application targets is kept.
  expect(outputOf(result.stdout, 'kubectl teleport-argocd clean')).toEqual([
    expect.stringMatching(/^ACTION\s+SECRET\s+CLUSTER\s+OWNER\s+DETAIL$/),
    expect.stringMatching(new RegExp(`^delete\\s+${secretOf('legacy-eu')}\\s+${TELEPORT_CLUSTER}/legacy-eu\\s+tbot\\s+certificate expired 3h ago`)),
    expect.stringMatching(new RegExp(`^skip\\s+${secretOf('legacy-us')}\\s+${TELEPORT_CLUSTER}/legacy-us\\s+tbot\\s+still targeted by 1 Application\\(s\\): argocd/billing$`)),
  ]);
  expect(result.stderr).toContain('clean: 1 deleted, 1 skipped, 0 failed (dry run)\nclean: 1 deleted, 1 skipped, 0 failed\n');
  const listed = outputOf(result.stdout, 'kubectl teleport-argocd list');
  expect(listed.some((line) => line.includes('legacy-eu'))).toBe(false);
  expect(listed.find((line) => line.includes('legacy-us'))).toMatch(/\s+Expired$/);
  expect(result.code).toBe(0);
}, 180_000);
