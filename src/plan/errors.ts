/**
 * Errors of the plan command that a user can act on: printed without a stack trace, exit code 1.
 *
 * Internal to the plan command: never exported from the package.
 */
export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

/** The packages the plan loads from the user's project, and why. */
export const OFFLINE_PACKAGES = ['@aws-cdk/cloudformation-diff'];
/** The packages online mode needs on top: whose credentials read each stack, and the clients of the lookups the deploy-time runtime makes. */
export const ONLINE_PACKAGES = [
  '@aws-sdk/client-cloudformation',
  '@aws-sdk/client-sts',
  '@aws-sdk/client-ecr',
  '@aws-sdk/client-ec2',
  '@aws-sdk/client-imagebuilder',
  '@aws-sdk/client-codebuild',
  '@aws-sdk/client-cloudwatch-logs',
];

/**
 * Loads a package from the user's project (an optional peer of this library: the plan command is
 * the only code that needs it), or fails naming the install line.
 *
 * @param name the package
 * @param packages every package of the mode, for the install line
 * @param what what needs it
 */
export function requireOptional<T>(name: string, packages: string[], what: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && (e as Error).message.includes(name)) {
      throw new PlanError(`${what} needs ${name}, which is not installed. Install it in your CDK app: npm install -D ${packages.join(' ')}`);
    }
    throw e;
  }
}

/** Checks that every package of a mode resolves, so that a missing one is named before any work. */
export function requireInstalled(packages: string[], what: string): void {
  const missing = packages.filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new PlanError(`${what} needs ${missing.join(', ')}, not installed. Install in your CDK app: npm install -D ${packages.join(' ')}`);
  }
}
