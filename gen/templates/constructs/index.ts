// The shared CDK constructs of this workspace: API constructs (one per generated API)
// and the core helpers they build on.  An ES module, as its package.json says.
export * from './app/index.js';
export * from './core/index.js';
