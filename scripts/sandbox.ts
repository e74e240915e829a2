// `npm run sandbox -- --out DIR`: starts the local sandbox (source cluster with Argo CD's
// namespace, two Teleport-enrolled targets behind the Teleport proxy stand-in), writes
// DIR/kubeconfig and DIR/README.txt, and stays up until interrupted.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startSandbox, TELEPORT_CLUSTER } from '../test/world/sandbox.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: '.sandbox' } } });
const out = path.resolve(values.out!);
mkdirSync(out, { recursive: true });
const world = await startSandbox();
const kubeconfig = await world.writeKubeconfig(path.join(out, 'kubeconfig'));
const description = [
  'kubectl-teleport-argocd sandbox',
  '',
  `source cluster (Argo CD, namespace argocd):  ${world.source.url}   context "source" (current)`,
  ...Object.entries(world.targets).map(([name, target]) => `target cluster ${name.padEnd(10)}                  ${target.url}   (only through Teleport)`),
  `Teleport proxy (cluster ${TELEPORT_CLUSTER}):   https://${world.proxy.addr}   SNI ${world.proxy.sni}`,
  `Teleport contexts (tbot kubernetes/v2):      ${Object.keys(world.targets).map((name) => `${TELEPORT_CLUSTER}-${name}`).join(', ')}`,
  '',
  `export KUBECONFIG=${kubeconfig}`,
  'kubectl teleport-argocd sync && kubectl teleport-argocd list',
  '',
].join('\n');
writeFileSync(path.join(out, 'README.txt'), description);
process.stdout.write(`${description}\nsandbox is running; press Ctrl-C to stop\n`);
const stop = async () => {
  await world.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
