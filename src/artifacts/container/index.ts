export * from './artifact';
export * from './platform';
