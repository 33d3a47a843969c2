/**
 * What online mode asks AWS for, and how a refused or impossible call becomes a message that names
 * what is missing.
 *
 * Internal to the plan command: never exported from the package.
 */
import { PlanError } from './errors';

/** The permissions online mode needs, as the README lists them. `sts:GetCallerIdentity` needs none. */
export const ONLINE_PERMISSIONS = [
  'cloudformation:DescribeStacks',
  'cloudformation:GetTemplate',
  'cloudformation:DescribeStackResource',
  'ecr:DescribeImages',
  'ec2:DescribeImages',
  'imagebuilder:GetImage',
  'sts:AssumeRole on the bootstrap lookup roles (cdk-<qualifier>-lookup-role-<account>-<region>)',
];

/** Errors that say the credentials themselves are missing, invalid or expired. */
const CREDENTIAL_ERRORS = ['CredentialsProviderError', 'UnrecognizedClientException', 'InvalidClientTokenId', 'ExpiredToken', 'ExpiredTokenException'];
/** Errors that say a call was refused. */
const REFUSED = ['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedException'];

/** Whether an error says the credentials are missing, invalid or expired. */
export function isCredentialError(e: unknown): boolean {
  return CREDENTIAL_ERRORS.includes((e as Error).name) || /Could not load credentials/.test((e as Error).message);
}

/** An error's name and message, bounded: a refusal's message can carry a whole policy ARN list. */
export function errorWords(e: unknown): string {
  const text = `${(e as Error).name}: ${(e as Error).message}`;
  return text.length > 400 ? `${text.slice(0, 400)}...` : text;
}

/**
 * Runs a call, turning missing credentials, region or permissions into a message that names them.
 *
 * @param stackName the stack the call is for
 * @param permission the permission the call needs
 * @param call the call
 * @param readWith whose credentials make it: the role assumed, when one was
 */
export async function ask<T>(stackName: string, permission: string, call: () => Promise<T>, readWith?: string): Promise<T> {
  try {
    return await call();
  } catch (e) {
    const name = (e as Error).name;
    const message = (e as Error).message;
    if (name === 'CredentialsProviderError' || /Could not load credentials/.test(message)) {
      throw new PlanError(`No AWS credentials (${message}). Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role is attached; or pass BEFORE to plan offline against another cloud assembly.`);
    }
    if (/Region is missing/i.test(message)) {
      throw new PlanError(`No AWS region for stack ${stackName}, which is environment-agnostic: set AWS_REGION (or a region in your AWS profile), or give the stack an env.`);
    }
    if (REFUSED.includes(name) || isCredentialError(e)) {
      const role = readWith && readWith.startsWith('arn:')
        ? ` It was read with the bootstrap lookup role ${readWith}, whose ReadOnlyAccess policy holds them from bootstrap version 8: bootstrap that environment again with a current CDK CLI.`
        : '';
      throw new PlanError(`${permission} for stack ${stackName} was refused (${errorWords(e)}). The plan needs ${ONLINE_PERMISSIONS.join(', ')}, and credentials that are valid.${role}`);
    }
    throw e;
  }
}

/** A stack (or a resource of it) that does not exist: `ValidationError`, "... does not exist". */
export function isMissing(e: unknown): boolean {
  return (e as Error).name === 'ValidationError' && /does not exist/.test((e as Error).message);
}
