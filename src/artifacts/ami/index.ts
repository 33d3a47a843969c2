export * from './artifact';
export * from './ami-bake';
export * from './bake-step';
export * from './base-image';
