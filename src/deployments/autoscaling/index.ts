export * from './health-check';
export * from './replacement-strategy';
export * from './immutable-auto-scaling-group';
