export * from './apis/index';
