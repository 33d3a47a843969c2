export * from './fingerprint';
export * from './artifacts/container';
export * from './artifacts/ami';
export * from './deployments/ecs';
export * from './deployments/autoscaling';
export * from './checks';
