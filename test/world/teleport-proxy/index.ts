export * from './server.js';
export * from './rules.js';
export * from './identity.js';
export * from './echo-upstream.js';
export * from './test-client.js';
