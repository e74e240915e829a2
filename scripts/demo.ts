// `npm run demo`: the plugin's main job on the local sandbox, run the way a user runs it —
// `kubectl teleport-argocd …` through the real kubectl, with the built binary on PATH.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BOT, BOT_ROLE, startSandbox, tbotKubeconfig, TELEPORT_CLUSTER } from '../test/world/sandbox.js';
import { mergeKubeconfigs, tbotClusterSecret, type Kubeconfig } from '../test/world/fixtures/index.js';
import { parse } from 'yaml';

const work = mkdtempSync(path.join(tmpdir(), 'teleport-argocd-demo-'));
const bin = path.join(work, 'bin');
mkdirSync(bin);
// The host build, or another binary named by KUBECTL_TELEPORT_ARGOCD_BINARY (the release
// workflow runs the demo with each platform's release binary on its own runner).
symlinkSync(path.resolve(process.env.KUBECTL_TELEPORT_ARGOCD_BINARY ?? 'dist/kubectl-teleport-argocd'), path.join(bin, 'kubectl-teleport_argocd'));

const world = await startSandbox();
const kubeconfig = await world.writeKubeconfig(path.join(work, 'kubeconfig'));
const env = { ...process.env, HOME: work, KUBECONFIG: kubeconfig, PATH: `${bin}${path.delimiter}${process.env.PATH}` };
let failures = 0;

function say(text: string): void {
  process.stdout.write(`\n\x1b[1m# ${text}\x1b[0m\n`);
}

/** Runs a command as the user would type it; `expect` is the exit code that means the step worked. */
// Asynchronous on purpose: the sandbox's servers run in this process and must keep answering.
async function run(args: string[], expect = 0): Promise<void> {
  process.stdout.write(`$ kubectl ${args.map((arg) => (/[\s"'{}]/.test(arg) ? `'${arg}'` : arg)).join(' ')}\n`);
  const status = await new Promise<number | null>((resolve) => {
    spawn('kubectl', args, { env, stdio: ['ignore', 'inherit', 'inherit'] }).on('close', resolve);
  });
  if (status !== expect) {
    failures += 1;
    process.stdout.write(`!! exit code ${status}, expected ${expect}\n`);
  }
}

try {
  say(`Sandbox: Argo CD runs in context "source"; clusters ${Object.keys(world.targets).join(' and ')} sit behind the Teleport proxy ${world.proxy.addr}.`);
  await run(['config', 'get-contexts']);

  say('1. Prepare tbot\'s Kubernetes join: render the Teleport role, bot, join token (with the live JWKS), RBAC and Helm values.');
  await run(['teleport-argocd', 'join', '--cluster-name', TELEPORT_CLUSTER, '--proxy', world.proxy.addr, '--bot', BOT, ...Object.keys(world.targets).flatMap((name) => ['--kube-cluster', name]), '--out-dir', path.join(work, 'tbot')]);
  await run(['teleport-argocd', 'check', 'join', '--cluster-name', TELEPORT_CLUSTER, '--token-file', path.join(work, 'tbot', 'join-token.yaml')]);

  say('2. Register the Teleport clusters in Argo CD (first a dry run with the plan, then for real).');
  await run(['teleport-argocd', 'sync', '--dry-run=client']);
  await run(['teleport-argocd', 'sync']);
  await run(['get', 'secrets', '-n', 'argocd', '-l', 'argocd.argoproj.io/secret-type=cluster', '--show-labels']);

  say('3. Run it again: nothing changed, so nothing is written.');
  await run(['teleport-argocd', 'sync']);

  say('4. tbot renews its certificate: only the changed field is written (values shown as fingerprints).');
  const renewed = await world.proxy.issueIdentity({ user: `bot-${BOT}`, roles: [BOT_ROLE], botName: BOT, kubernetesGroups: ['editor'] });
  await world.writeKubeconfig(kubeconfig, mergeKubeconfigs(world.sourceKubeconfig, tbotKubeconfig(world.proxy, Object.keys(world.targets), renewed)));
  await run(['teleport-argocd', 'sync', '--diff']);

  say('5. Audit what Argo CD has registered: owner, identity, expiry, status — and reach each cluster with its stored credentials.');
  await run(['teleport-argocd', 'list', '-o', 'wide', '--probe']);

  say('6. Check an Argo CD sync-impersonation setup end to end (here it is not enabled, so the check explains what is missing).');
  await run(['teleport-argocd', 'check', 'impersonation'], 1);

  say('7. Follow the fixes the check names, then check again.');
  await run(['-n', 'argocd', 'patch', 'configmap', 'argocd-cm', '--type', 'merge', '-p', '{"data":{"application.sync.impersonation.enabled":"true"}}']);
  const project = path.join(work, 'appproject.yaml');
  writeFileSync(project, [
    'apiVersion: argoproj.io/v1alpha1',
    'kind: AppProject',
    'metadata: {name: platform, namespace: argocd}',
    'spec:',
    '  sourceRepos: ["*"]',
    '  destinations: [{server: "*", namespace: apps}]',
    '  destinationServiceAccounts: [{server: "*", namespace: apps, defaultServiceAccount: deployer}]',
    '',
  ].join('\n'));
  await run(['apply', '-f', project]);
  process.stdout.write('# Teleport admin: the bot role gets kubernetes_users [\'*\'] and no kubernetes_groups (tctl edit role); tbot renews.\n');
  world.proxy.setRole(BOT_ROLE, { kubernetesUsers: ['*'], kubernetesLabels: { '*': '*' } });
  const impersonating = await world.proxy.issueIdentity({ user: `bot-${BOT}`, roles: [BOT_ROLE], botName: BOT, kubernetesUsers: ['*'] });
  const targetAdmins = Object.entries(world.targets).map(([name, target]) => {
    const admin = parse(target.kubeconfig(target.admin, { context: `admin@${name}`, cluster: `admin@${name}`, user: `admin@${name}` })) as Kubeconfig;
    return admin;
  });
  await world.writeKubeconfig(kubeconfig, mergeKubeconfigs(world.sourceKubeconfig, tbotKubeconfig(world.proxy, Object.keys(world.targets), impersonating), ...targetAdmins));
  await run(['teleport-argocd', 'sync']);
  for (const name of Object.keys(world.targets)) {
    process.stdout.write(`# cluster admin of ${name}: the control plane runs as bot-${BOT}; syncs impersonate apps:deployer\n`);
    await run(['--context', `admin@${name}`, 'create', 'clusterrole', 'argocd-read-all', '--verb=get,list,watch', '--resource=*.*']);
    await run(['--context', `admin@${name}`, 'create', 'clusterrolebinding', 'argocd-read-all', '--clusterrole=argocd-read-all', `--user=bot-${BOT}`]);
    await run(['--context', `admin@${name}`, 'create', 'clusterrolebinding', `${BOT}-edit`, '--clusterrole=edit', `--user=bot-${BOT}`]);
    await run(['--context', `admin@${name}`, '-n', 'apps', 'create', 'serviceaccount', 'deployer']);
  }
  await run(['config', 'use-context', 'source']);
  await run(['teleport-argocd', 'check', 'impersonation']);

  say('8. Label templates: copy Teleport labels (tsh kube ls) onto the secrets, so an ApplicationSet cluster generator can select by them.');
  process.stdout.write('# tsh kube login --all (this tsh holds the bot\'s identity, so only the labels change)\n');
  const tsh = await world.tshLogin(path.join(work, 'tsh'), impersonating);
  const tshKubeconfig = await world.writeKubeconfig(path.join(work, 'tsh', 'kubeconfig'), tsh.kubeconfig);
  await run(['teleport-argocd', 'sync', '--source-kubeconfig', tshKubeconfig, '--label', 'region={{index .Labels "region"}}', '--diff']);
  await run(['get', 'secrets', '-n', 'argocd', '-l', 'region=eu']);

  say('9. Dead registrations: tbot stops refreshing the secret of a cluster that left Teleport, but never deletes it. clean does — unless an Application still uses it.');
  process.stdout.write('# (simulated) tbot registered legacy-eu and legacy-us hours ago; both clusters have since left Teleport. An Application still deploys to legacy-us.\n');
  const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);
  const lastIdentity = await world.proxy.issueIdentity({ user: `bot-${BOT}`, roles: [BOT_ROLE], botName: BOT, kubernetesUsers: ['*'] }, { notBefore: hoursAgo(5), notAfter: hoursAgo(3) });
  for (const kubeCluster of ['legacy-eu', 'legacy-us']) {
    const secret = tbotClusterSecret({ teleportCluster: TELEPORT_CLUSTER, kubeCluster, proxyAddr: world.proxy.addr, caPem: world.proxy.hostCA.certPem, certPem: lastIdentity.certPem, keyPem: lastIdentity.keyPem, botName: BOT, updated: hoursAgo(4) });
    world.source.store.put(secret as never, 'secrets');
  }
  const app = path.join(work, 'application.yaml');
  writeFileSync(app, [
    'apiVersion: argoproj.io/v1alpha1',
    'kind: Application',
    'metadata: {name: billing, namespace: argocd}',
    'spec:',
    '  project: default',
    '  source: {repoURL: "https://github.com/example/billing.git", path: deploy, targetRevision: HEAD}',
    `  destination: {name: ${TELEPORT_CLUSTER}-legacy-us, namespace: billing}`,
    '',
  ].join('\n'));
  await run(['apply', '-f', app]);
  await run(['teleport-argocd', 'list', '-o', 'wide']);
  await run(['teleport-argocd', 'clean', '--dry-run=client']);
  await run(['teleport-argocd', 'clean']);
  await run(['teleport-argocd', 'list']);
} finally {
  await world.close();
}
say(failures === 0 ? 'Demo finished: every step behaved as expected.' : `Demo finished with ${failures} unexpected result(s).`);
process.exit(failures === 0 ? 0 : 1);
