// The shared CDK constructs of this workspace: API constructs (one per generated API)
// and the core helpers they build on.
export * from './app/index';
export * from './core/index';
