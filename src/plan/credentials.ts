/**
 * Whose credentials read each stack, as the CDK CLI decides it for `cdk diff`: the stack's bootstrap
 * lookup role (the manifest's `lookupRole`, `cdk-<qualifier>-lookup-role-<account>-<region>`) when it
 * can be assumed; otherwise the current credentials, but only when they are of the stack's account.
 * A stack of another account whose lookup role cannot be assumed is not planned: its name may be
 * the name of a stack of the current account, whose template must never stand in for it.
 *
 * Loaded only in online mode (it imports the STS client the user installs for it).
 *
 * Internal to the plan command: never exported from the package.
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AssemblyStack } from './assembly';
import { ask, errorWords, isCredentialError } from './aws';

/** AWS credentials, as the SDK's clients take them. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** How a stack is read. */
export interface Access {
  readonly account: string;
  readonly region: string;
  /** The role's credentials; undefined for the current credentials (the SDK's default chain). */
  readonly credentials?: Credentials;
  /** The role's ARN, or `current credentials`. */
  readonly readWith: string;
  readonly notes: string[];
  /** Why the stack is not planned, when it is not. */
  readonly notPlanned?: string;
}

/** The session name of the role the plan assumes, as CloudTrail shows it. */
export const ROLE_SESSION_NAME = 'cdk-immutable-deploys-plan';
export const CURRENT_CREDENTIALS = 'current credentials';

interface Identity {
  readonly account: string;
  readonly partition: string;
}

/** The accounts of a plan: one `sts:GetCallerIdentity`, one `sts:AssumeRole` per role. */
export class Accounts {
  private identity?: Promise<Identity>;
  private readonly accesses = new Map<string, Promise<Access>>();

  /**
   * How to read a stack (for a nested stack, its top-level stack's).
   *
   * @param stack the stack
   */
  public async access(stack: AssemblyStack): Promise<Access> {
    const sts = new STSClient(stack.region ? { region: stack.region } : {});
    const identity = await (this.identity ??= this.whoAmI(stack, sts));
    const account = stack.account ?? identity.account;
    const region = stack.region ?? (await ask(stack.name, 'the region', () => sts.config.region()));
    const role = stack.lookupRole ? resolvePlaceholders(stack.lookupRole.arn, { partition: identity.partition, account, region }) : undefined;
    const key = `${account}/${region}/${role ?? ''}`;
    let access = this.accesses.get(key);
    if (!access) {
      access = this.decide(stack, sts, identity, account, region, role);
      this.accesses.set(key, access);
    }
    return access;
  }

  private async whoAmI(stack: AssemblyStack, sts: STSClient): Promise<Identity> {
    const answer = await ask(stack.name, 'sts:GetCallerIdentity', () => sts.send(new GetCallerIdentityCommand({})));
    return { account: answer.Account!, partition: /^arn:([^:]+):/.exec(answer.Arn ?? '')?.[1] ?? 'aws' };
  }

  private async decide(
    stack: AssemblyStack, sts: STSClient, identity: Identity, account: string, region: string, role: string | undefined,
  ): Promise<Access> {
    const same = account === identity.account;
    const current: Access = { account, region, readWith: CURRENT_CREDENTIALS, notes: [] };
    if (!role) {
      if (same) return current;
      return {
        ...current,
        notes: [],
        notPlanned: `other account: the current credentials are of ${identity.account}, the stack deploys to ${account}, and its synthesizer names no lookup role to assume. Plan it with credentials of ${account}.`,
      };
    }
    try {
      const answer = await sts.send(new AssumeRoleCommand({
        ...(stack.lookupRole?.assumeRoleAdditionalOptions ?? {}),
        RoleArn: role,
        RoleSessionName: ROLE_SESSION_NAME,
        ...(stack.lookupRole?.assumeRoleExternalId ? { ExternalId: stack.lookupRole.assumeRoleExternalId } : {}),
      }));
      const c = answer.Credentials!;
      return {
        account,
        region,
        readWith: role,
        credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken, expiration: c.Expiration },
        notes: [],
      };
    } catch (e) {
      // Credentials that are missing or expired stop the plan, as they stop the CLI.
      if (isCredentialError(e)) return ask(stack.name, `sts:AssumeRole of ${role}`, () => Promise.reject(e));
      if (same) {
        return { ...current, notes: [`the lookup role ${role} was not assumed (${errorWords(e)}): read with the current credentials, which are of its account, as the CDK CLI does.`] };
      }
      return {
        ...current,
        notPlanned: `other account: the current credentials are of ${identity.account}, the stack deploys to ${account}, and its lookup role ${role} could not be assumed (${errorWords(e)}). Bootstrap ${account} with --trust-for-lookup ${identity.account}, or plan it with credentials of ${account}.`,
      };
    }
  }
}

/** The manifest's role ARN for the environment: `${AWS::Partition}`, `${AWS::AccountId}`, `${AWS::Region}`. */
export function resolvePlaceholders(arn: string, env: { partition: string; account: string; region: string }): string {
  return arn.replace(/\$\{AWS::Partition\}/g, env.partition).replace(/\$\{AWS::AccountId\}/g, env.account).replace(/\$\{AWS::Region\}/g, env.region);
}
