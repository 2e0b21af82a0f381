export * from './api/utils.js';
export * from './api/rest-api.js';
export * from './api/http-api.js';
export * from './runtime-config.js';
