export * from './immutability-checks';
