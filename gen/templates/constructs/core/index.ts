export * from './api/utils';
export * from './api/rest-api';
export * from './api/http-api';
export * from './runtime-config';
