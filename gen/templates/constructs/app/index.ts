// The API constructs of this workspace (apis/index.ts lists them).
export * from './apis/index.js';
