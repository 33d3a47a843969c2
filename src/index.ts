export * from './fingerprint';
export * from './artifacts/container';
export * from './artifacts/ami';
