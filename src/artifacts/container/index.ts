export * from './artifact';
export * from './platform';
export * from './container-image-build';
export * from './replication';
