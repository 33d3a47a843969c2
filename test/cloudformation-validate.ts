/**
 * `@aws/cloudformation-validate` as the tests load it (jest's `moduleNameMapper`, `.projenrc.ts`):
 * the package the test environment loaded once for this worker, whose engines are built once per
 * configuration and shared by every test file (`test/jest-environment.js` says why). Run under
 * another environment, it is the package itself.
 */
import * as path from 'path';

/** The symbol under which `test/jest-environment.js` puts the shared package on each file's global. */
const shared = (globalThis as Record<symbol, unknown>)[Symbol.for('cdk-immutable-deploys.test.cloudformation-validate')];

// The package itself, by its path (a package name would come back here through the mapping).
// eslint-disable-next-line @typescript-eslint/no-require-imports
module.exports = shared ?? require(require.resolve('@aws/cloudformation-validate', { paths: [path.dirname(require.resolve('aws-cdk-lib/package.json'))] }));
