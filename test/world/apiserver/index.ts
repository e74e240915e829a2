// Public API of the Kubernetes API server stand-in (see README.md beside this file).
export { FakeKubeCluster, startKubeApiServer } from './server.js';
export type { FakeKubeClusterOptions, ClientIdentity, KubeconfigOptions } from './server.js';
export type { KubeObject, ObjectMeta, WatchEvent } from './store.js';
export { ObjectStore } from './store.js';
export { Faults, Fault, RequestCounts } from './faults.js';
export type { FaultMatch, FaultAction, FaultRule, RequestRecord } from './faults.js';
export { TokenIssuer, DEFAULT_ISSUER } from './tokens.js';
export type { ServiceAccountClaims } from './tokens.js';
export type { UserInfo, PolicyRule } from './rbac.js';
export type { Status, StatusDetails } from './errors.js';
export { RESOURCE_TYPES, resolveType } from './resources.js';
export type { ResourceType } from './resources.js';
export { encodeKubeProtobuf, decodeKubeProtobuf, PROTOBUF_CONTENT_TYPE } from './protobuf.js';
export { humanDuration } from './table.js';
export { kubeRequest } from './client.js';
export type { KubeRequestOptions, KubeResponse, RequestIdentity } from './client.js';
export { KubectlSandbox, KUBECTL } from './kubectl.js';
export type { KubectlResult } from './kubectl.js';
