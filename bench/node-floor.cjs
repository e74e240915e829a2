// `node bench/node-floor.cjs CONFIG.json NAMESPACE`: the reads `list` makes (cluster
// secrets; argocd-cmd-params-cm, then the namespace's Applications), sent with nothing but
// Node's own https, and the secret names printed. No argument parser, no Kubernetes client,
// no YAML parser, no audit: what Node itself costs for `list`'s job, so that bench/startup
// can show how much of `list`'s time is the runtime and how much is ours. CONFIG.json is
// `kubectl config view --raw --minify -o json`: one context with static TLS material
// (certificate or token, no exec plugin).
'use strict';
const { readFileSync } = require('node:fs');
const https = require('node:https');
const tls = require('node:tls');

const [configFile, namespace] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configFile, 'utf8'));
const { cluster } = config.clusters[0];
const { user } = config.users[0];
if (user.exec || user['auth-provider']) throw new Error('node-floor: only contexts with static credentials');

const material = (data, file) => (data ? Buffer.from(data, 'base64') : file ? readFileSync(file) : undefined);
const secureContext = tls.createSecureContext({
  ca: material(cluster['certificate-authority-data'], cluster['certificate-authority']),
  cert: material(user['client-certificate-data'], user['client-certificate']),
  key: material(user['client-key-data'], user['client-key']),
});
const agent = new https.Agent({
  keepAlive: true,
  secureContext,
  servername: cluster['tls-server-name'],
  rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
});
const headers = user.token ? { authorization: `Bearer ${user.token}` } : {};
const ns = encodeURIComponent(namespace);

function get(path) {
  return new Promise((resolve, reject) => {
    https
      .get(`${cluster.server.replace(/\/$/, '')}${path}`, { agent, headers }, (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      })
      .on('error', reject);
  });
}

Promise.all([
  get(`/api/v1/namespaces/${ns}/secrets?labelSelector=${encodeURIComponent('argocd.argoproj.io/secret-type=cluster')}&limit=500`),
  get(`/api/v1/namespaces/${ns}/configmaps/argocd-cmd-params-cm`).then(() => get(`/apis/argoproj.io/v1alpha1/namespaces/${ns}/applications?limit=500`)),
]).then(([secrets]) => {
  const names = secrets.items.map((secret) => secret.metadata.name);
  process.stdout.write(`${names.join('\n')}\n`, () => process.exit(0));
});
