/**
 * `DeployTimeRuntime`: the one function per stack that runs every deploy-time job of the stack, and
 * the few resources around it (see `runtime.singleton-lambda.ts` for what it does at deploy time).
 *
 * Per stack: the function, its role and policy, the jobs resource (`Custom::CdkImmutableDeploysJobs`),
 * one event rule for the state changes of the stack's builds and bakes, and one schedule rule that the
 * function enables only while a job is pending. Per job: a wait-condition handle and a wait condition,
 * both named by the job's fingerprint and timeout, so that every new input gets a wait of its own.
 *
 * The function's policy does not grow with the number of jobs: each kind of job grants once, on this
 * stack's own names (exact ARNs of shared resources, or the stack's name prefixes).
 *
 * Internal: never exported from the package.
 */
import { ArnFormat, Aws, CfnResource, CfnWaitCondition, CustomResource, Duration, Fn, Lazy, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct, IDependable } from 'constructs';
import {
  DESTROY, HOLDS_ROOT, JOBS_RESOURCE_TYPE, LOOKUP_ATTRIBUTE, LOOKUP_RESOURCE_TYPE, MAX_PENDING_JOB_BYTES, REMOVAL_POLICY_SETTING,
  RESULT_JOB_KIND, RESULT_KEY, RUNTIME_ENV, START_ONLY, STATE_ROOT,
} from './protocol';
import type { JobKind, JobProperties, LookupKind, LookupProperties } from './protocol';
import { RuntimeFunction } from './runtime-function';
import { FINGERPRINT_TAG, KEEP_TAG, KEPT_BY_TAG, KEY_GRANT_OPERATIONS } from '../../artifacts/ami/types';
import type { KeyGrantSpec } from '../../artifacts/ami/types';
import { Fingerprint } from '../../fingerprint';
import { acknowledgeRuntimeFunction } from '../baseline';
import { constructError, SynthError } from '../errors';
import { acknowledgeHandler, acknowledgeWildcards, functionOf } from '../nag';
import { stackSingleton } from '../singleton';
import { nestedStackIdentity } from '../stack-identity';

/** Construct id of the per-stack runtime: part of the public contract, never renamed. */
const RUNTIME_ID = 'cdk-immutable-deploys.Runtime';

/** The longest a job may take: a CloudFormation wait condition's limit. */
export const MAX_JOB_TIMEOUT = Duration.hours(12);

/** The function's timeout, and the custom resource's service timeout (a crash surfaces after it). */
const FUNCTION_TIMEOUT = Duration.minutes(10);
const SERVICE_TIMEOUT = Duration.minutes(15);

/**
 * The jobs resource's request must stay within Lambda's payload limit for asynchronous invocations
 * (256 KB), with old and new properties both in an update. The template's properties are counted
 * here, plus a handle URL per job.
 */
const MAX_JOBS_BYTES = 100_000;
/** What a job's entry holds beyond the settings counted (its key, its timeout, the JSON around them). */
const JOB_OVERHEAD_BYTES = 160;

/**
 * Context key of a retry after a failed deploy with rollback disabled (`cdk deploy --no-rollback`):
 * `-c cdk-immutable-deploys:retry=<any new word>` gives every job a new wait (and result lookup
 * input), so that a job whose attempt failed starts a new one (an artifact that exists completes its
 * new wait at once). Without one, CloudFormation re-runs only what failed: a failed result lookup,
 * which fails again at once, or a wait that got no signal, re-created at the same logical id, which
 * the jobs resource (not run again) never starts anything for, so it waits its whole timeout.
 */
export const RETRY_CONTEXT = 'cdk-immutable-deploys:retry';
const RETRY_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;

/** A job to run when the stack deploys. */
export interface JobOptions {
  readonly kind: JobKind;
  readonly fingerprint: string;
  /** What the job's kind needs (strings, or arrays and objects of strings). */
  readonly spec: { readonly [name: string]: unknown };
  /** How long the job may take, at most 12 hours. */
  readonly timeout: Duration;
  /** What must exist before the job starts: its grants, its configurations. */
  readonly dependencies?: IDependable[];
  /**
   * What the job's runner needs to find its artifact by fingerprint (`JobRunner.find`, `readBack`),
   * as strings: the spec of the job's `job-result` lookup.
   */
  readonly readBack: { readonly [name: string]: string };
}

/** What a job gives its construct. */
export interface JobHandle {
  /** The job's wait condition: it completes when the job ended (the plan's metadata goes on it). */
  readonly wait: CfnWaitCondition;
  /**
   * The job's artifact (an image digest, an AMI id), read back from AWS by its fingerprint once the
   * wait completed: what consumers run.
   */
  readonly result: string;
  /** The lookup resource that reads the result back. */
  readonly resultResource: CustomResource;
}

/** One job of a jobs resource: its construct, its entry, and the lookup that reads its result back. */
interface JobEntry {
  readonly owner: IConstruct;
  readonly props: JobProperties;
  readonly result: CustomResource;
}

/** One jobs resource: its jobs, its level (0 for jobs that read no other job's result) and its estimated request size. */
interface JobsResource {
  readonly resource: CustomResource;
  readonly jobs: JobEntry[];
  readonly level: number;
  bytes: number;
}

/** An EventBridge pattern of one event source (a branch of the rule's `$or`). */
type PatternBranch = { [key: string]: unknown };

export class DeployTimeRuntime extends Construct {
  /** The runtime of the stack of `scope`, created on first use. */
  public static of(scope: IConstruct): DeployTimeRuntime {
    return stackSingleton(scope, RUNTIME_ID, (stack, id) => new DeployTimeRuntime(stack, id));
  }

  /** The stack-level function behind the singleton. */
  public readonly function: lambda.Function;
  private readonly singleton: lambda.SingletonFunction;
  /** The jobs resources: the first holds every job that needs no other job's result; each next one, the jobs that need the one before's. */
  private readonly generations: JobsResource[] = [];
  private readonly granted = new Set<string>();
  private readonly keys = new WeakMap<object, string>();
  private readonly branches = new Map<string, PatternBranch>();
  private readonly events: events.Rule;
  private readonly poll: events.Rule;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    const statePath = `${STATE_ROOT}/${stack.stackName}`;
    const rulePrefix = rulePrefixOf(stack);
    const pollRuleName = `${rulePrefix}-poll`;

    this.singleton = new RuntimeFunction(this, 'Function', {
      lambdaPurpose: 'CdkImmutableDeploysRuntime',
      description: 'cdk-immutable-deploys: runs the deploy-time jobs of this stack (image builds, AMI bakes)',
      timeout: FUNCTION_TIMEOUT,
      memorySize: 256,
      environment: { [RUNTIME_ENV.STATE_PATH]: statePath, [RUNTIME_ENV.POLL_RULE]: pollRuleName },
    });
    this.function = functionOf(this.singleton);
    acknowledgeHandler(this.singleton);
    acknowledgeRuntimeFunction(this.function);

    // While a job is pending the function enables this rule, and checks every pending job each minute.
    const poll = new events.Rule(this, 'Poll', {
      ruleName: pollRuleName,
      description: `cdk-immutable-deploys: checks the pending deploy-time jobs of stack ${stack.stackName} (enabled only while one is pending)`,
      schedule: events.Schedule.rate(Duration.minutes(1)),
      enabled: false,
      targets: [this.target(0)],
    });
    // The state changes of this stack's builds and bakes (best effort: the schedule covers a lost one).
    this.events = new events.Rule(this, 'Events', {
      ruleName: `${rulePrefix}-events`,
      description: `cdk-immutable-deploys: state changes of the deploy-time jobs of stack ${stack.stackName}`,
      eventPattern: { source: ['aws.codebuild'] },
      targets: [this.target(2)],
    });
    // One permission lets both rules invoke the function: EventBridge's source ARN is matched with
    // ArnLike, and both rules' names start with the stack's rule prefix.
    this.singleton.addPermission('InvokeFromRules', {
      principal: new iam.ServicePrincipal('events.amazonaws.com'),
      sourceArn: stack.formatArn({ service: 'events', resource: 'rule', resourceName: `${rulePrefix}-*` }),
      sourceAccount: stack.account,
    });
    (this.events.node.defaultChild as events.CfnRule).eventPattern = Lazy.any({ produce: () => this.renderPattern() });

    const parameterArn = (name: string) => stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, ''), arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    this.grant('runtime', [
      new iam.PolicyStatement({
        actions: ['ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:GetParameter', 'ssm:GetParametersByPath'],
        resources: [parameterArn(statePath), parameterArn(`${statePath}/*`)],
      }),
      new iam.PolicyStatement({ actions: ['events:EnableRule', 'events:DisableRule'], resources: [stack.formatArn({ service: 'events', resource: 'rule', resourceName: pollRuleName })] }),
      // Its waits' state and signals, its own policy's age (IAM propagation), and the stack's status (a rollback, a deletion).
      new iam.PolicyStatement({ actions: ['cloudformation:DescribeStackResource', 'cloudformation:SignalResource', 'cloudformation:DescribeStacks'], resources: [Aws.STACK_ID] }),
      ...this.rootStatements(stack),
    ], 'The runtime keeps each pending job, and what each lookup answered, in SSM parameters under this stack\'s own path.');
    this.grantHolds();
    // The runtime's own policies: an AccessDenied soon after CloudFormation changed one is IAM propagating.
    // Past 10,000 characters aws-cdk-lib moves statements into managed policies (OverflowPolicyN), when
    // the stack is prepared: a new grant may change only one of those.
    const role = this.function.role;
    if (role) this.function.addEnvironment(RUNTIME_ENV.POLICY, Lazy.string({ produce: () => policyIdsOf(stack, role) }));

    this.poll = poll;
    this.node.addValidation({ validate: () => this.validateSize() });
  }

  /** The function as a rule's target, without the permission per rule that `targets.LambdaFunction` adds. */
  private target(retryAttempts: number): events.IRuleTarget {
    return { bind: () => ({ arn: this.function.functionArn, retryPolicy: { maximumRetryAttempts: retryAttempts } }) };
  }

  /**
   * Adds a job: its wait condition and its result (in `owner`), and its entry in the jobs resource.
   * The wait's logical id is the job's key; it changes with the fingerprint and timeout (and the retry
   * word). The wait takes one signal through CloudFormation's `SignalResource` (its creation policy):
   * no handle, so no presigned URL that anyone who may read the stack could signal. The result is a
   * `job-result` lookup that depends on the wait and reads the artifact back from AWS by its
   * fingerprint: what consumers run comes from it, never from a signal.
   */
  public addJob(owner: Construct, options: JobOptions): JobHandle {
    const stack = Stack.of(owner);
    const timeoutSeconds = options.timeout.toSeconds();
    const timeoutKey = Token.isUnresolved(timeoutSeconds) ? stack.resolve(timeoutSeconds) : timeoutSeconds;
    const retry = this.retry();
    const suffix = Fingerprint.ofJson({ fingerprint: options.fingerprint, timeout: timeoutKey, ...(retry === undefined ? {} : { retry }) }).short;
    const generation = this.generationFor(owner, { Kind: options.kind, Path: owner.node.path, Fingerprint: options.fingerprint, Spec: options.spec });
    // A number known only later (a parameter, a lazy value) becomes a string when it resolves.
    const seconds = Token.isUnresolved(timeoutSeconds)
      ? Lazy.string({ produce: () => { const v = stack.resolve(timeoutSeconds); return typeof v === 'number' ? String(v) : v; } })
      : String(timeoutSeconds);
    const wait = new CfnWaitCondition(owner, `Wait${suffix}`);
    // A wait with a creation policy takes no properties (CloudFormation: WaitCondition); its timeout is the policy's, at most PT43200S.
    wait.cfnOptions.creationPolicy = { resourceSignal: { count: 1, timeout: Fn.join('', ['PT', seconds, 'S']) } };
    wait.node.addDependency(generation.resource);
    for (const dependency of options.dependencies ?? []) generation.resource.node.addDependency(dependency);
    const key = stack.getLogicalId(wait);
    const result = this.newLookup(owner, 'Result', {
      Kind: 'job-result',
      Path: owner.node.path,
      Fingerprint: options.fingerprint,
      Spec: { ...options.readBack, [RESULT_JOB_KIND]: options.kind, [RESULT_KEY]: key },
    });
    result.node.addDependency(wait);
    const path = owner.node.path;
    const props = { Key: key, Kind: options.kind, Path: path, Fingerprint: options.fingerprint, TimeoutSeconds: seconds, Spec: options.spec };
    generation.jobs.push({ owner, props, result });
    return { wait, result: result.getAttString(LOOKUP_ATTRIBUTE), resultResource: result };
  }

  /** The retry word of this synthesis (context `cdk-immutable-deploys:retry`), if any. */
  private retry(): string | undefined {
    const value: unknown = this.node.tryGetContext(RETRY_CONTEXT);
    if (value === undefined || value === null || value === '') return undefined;
    const text = typeof value === 'number' ? String(value) : value;
    if (typeof text !== 'string' || !RETRY_PATTERN.test(text)) {
      throw new SynthError(Stack.of(this).node.path, {
        prop: `context ${RETRY_CONTEXT}`,
        value,
        problem: 'must be 1 to 32 letters, digits, \'.\', \'_\' or \'-\'',
        fix: `Pass a new word for each retry after a deploy with --no-rollback failed, e.g. \`cdk deploy -c ${RETRY_CONTEXT}=2\`.`,
      });
    }
    return text;
  }

  /**
   * Adds a lookup: one resource of type `Custom::CdkImmutableDeploysLookup` in `owner` (id `Lookup`),
   * answered at once by this runtime with the exact artifact of a fingerprint. Its properties carry
   * the fingerprint and where to look, never the result, so the result is resolved once per change of
   * them and never drifts. Returns the resolved id (an AMI id, an image digest).
   */
  public addLookup(owner: Construct, options: { kind: LookupKind; fingerprint: string; spec: { [name: string]: string } }): string {
    const properties: LookupProperties = { Kind: options.kind, Path: owner.node.path, Fingerprint: options.fingerprint, Spec: options.spec };
    return this.newLookup(owner, 'Lookup', properties).getAttString(LOOKUP_ATTRIBUTE);
  }

  /** A `Custom::CdkImmutableDeploysLookup` resource, made after the function's policy (its grants). */
  private newLookup(scope: Construct, id: string, properties: LookupProperties): CustomResource {
    const resource = new CustomResource(scope, id, {
      serviceToken: this.function.functionArn,
      resourceType: LOOKUP_RESOURCE_TYPE,
      serviceTimeout: SERVICE_TIMEOUT,
      properties: { ...properties },
    });
    resource.node.addDependency(this.function);
    return resource;
  }

  /**
   * The KMS grant that lets this account's Auto Scaling service-linked role use `keyArn` (another
   * account's key, which encrypts an AMI shared with this one): one resource per key in the stack,
   * however many groups launch AMIs it encrypts. The runtime creates the role if the account has none
   * yet, creates the grant (from this account, as EC2 Auto Scaling requires), waits until KMS has made
   * it effective, and retires it when the resource goes. What launches from the AMI must depend on the
   * returned resource.
   */
  public addKeyGrant(keyArn: string): CustomResource {
    const stack = Stack.of(this);
    const identity = JSON.stringify(stack.resolve(keyArn));
    const id = `KeyGrant${Fingerprint.ofString(identity).short.slice(0, 8)}`;
    const existing = this.node.tryFindChild(id) as CustomResource | undefined;
    if (existing) return existing;
    const grantee = `arn:${stack.partition}:iam::${stack.account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`;
    const spec: KeyGrantSpec = { KeyArn: keyArn, Grantee: grantee, RetiringPrincipal: this.function.role!.roleArn };
    const properties: LookupProperties = {
      Kind: 'key-grant',
      Path: `${this.node.path}/${id}`,
      // What is granted names the resource's properties: the key and the grantee.
      Fingerprint: Fingerprint.ofJson({ key: identity, grantee: JSON.stringify(stack.resolve(grantee)) }).hex,
      Spec: { ...spec },
    };
    const resource = this.newLookup(this, id, properties);
    // Only grants for this account's Auto Scaling role, with the operations it needs, on this exact key;
    // retiring is allowed by the grant itself (the runtime's role is its retiring principal).
    this.grant(`key-grant:${identity}`, [
      new iam.PolicyStatement({
        actions: ['kms:CreateGrant'],
        resources: [keyArn],
        conditions: {
          'StringEquals': { 'kms:GranteePrincipal': grantee },
          'ForAllValues:StringEquals': { 'kms:GrantOperations': [...KEY_GRANT_OPERATIONS] },
        },
      }),
      new iam.PolicyStatement({ actions: ['kms:RetireGrant', 'kms:ListGrants'], resources: [keyArn] }),
    ]);
    // The grantee must exist before the grant: in a new account, Auto Scaling's role does not until the
    // first group. Only that role, in this account (the ARN IAM gives it, and the service's name).
    this.grant('key-grant:service-linked-role', [new iam.PolicyStatement({
      actions: ['iam:CreateServiceLinkedRole'],
      resources: [grantee],
      conditions: { StringEquals: { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' } },
    })]);
    return resource;
  }

  /**
   * In a nested stack, the status of the root of its nesting: only the root's deletion deletes
   * artifacts (a nested stack that an update of its parent removes is DELETE_IN_PROGRESS too).
   */
  private rootStatements(stack: Stack): iam.PolicyStatement[] {
    let root = stack;
    while (root.nestedStackParent) root = root.nestedStackParent;
    if (root === stack) return [];
    return [new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [root.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${root.stackName}/*` })] })];
  }

  /**
   * Lets the runtime hold and release artifacts: keep the account's register of holds
   * (`/cdk-immutable-deploys/_holds`: read everyone's entries of an artifact, write and delete this
   * stack's own) and the keep tags of bake AMIs, in every region. Granted by every runtime, whatever
   * its stack's regions, bakes and imports now: CloudFormation updates the policy before the lookups
   * that depend on it, and deletes the old lookups only after, so a release of a region that the stack
   * no longer bakes, copies to or imports from runs under a policy without it (review runtime #2, #3).
   * The conditions, not the region, scope it; and the policy does not grow with regions.
   */
  public grantHolds(): void {
    const stack = Stack.of(this);
    const holds = (name: string) => `arn:${stack.partition}:ssm:*:${stack.account}:parameter${HOLDS_ROOT}/${name}`;
    this.grant('holds', [
      new iam.PolicyStatement({ actions: ['ssm:GetParametersByPath'], resources: [holds('*')] }),
      new iam.PolicyStatement({ actions: ['ssm:PutParameter', 'ssm:DeleteParameter'], resources: [holds(`*/${stack.stackName}.*`)] }),
      // Only bake AMIs (the fingerprint tag), only the keep tags.
      new iam.PolicyStatement({
        actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
        resources: [`arn:${stack.partition}:ec2:*::image/*`],
        conditions: {
          'Null': { [`aws:ResourceTag/${FINGERPRINT_TAG}`]: 'false', 'aws:TagKeys': 'false' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [KEEP_TAG, KEPT_BY_TAG] },
        },
      }),
    ], `Artifact ids (AMI ids) and their regions are known only at deploy time, and a release may come after an update removed the last use of a region: in every region, the runtime records which stacks hold which artifact under ${HOLDS_ROOT}/<artifact id>/, reads every entry of an artifact, and writes and deletes only the entries of this stack (named '<stack name>.<holder>'); it tags an AMI it holds as kept from lifecycle deletion, and untags it when no stack holds it, limited by conditions to AMIs with a bake fingerprint tag and to the two keep tags.`);
  }

  /**
   * Adds statements to the function's policy once per key, with the reason for their wildcards.
   * Keys name what is granted (a kind of job, a shared project), never one artifact.
   */
  public grant(key: string, statements: iam.PolicyStatement[], reason?: string): void {
    if (this.granted.has(key)) return;
    this.granted.add(key);
    for (const statement of statements) {
      this.singleton.addToRolePolicy(statement);
      if (reason) acknowledgeWildcards(this.function, statement.actions, statement.resources, reason);
    }
  }

  /**
   * The job spec setting of an artifact's removal policy: RETAIN (the default) adds nothing, so the
   * template of a stack that keeps its artifacts does not change; DESTROY adds the setting (the runtime
   * deletes only when the stack, and the root of its nesting, are DELETE_IN_PROGRESS). Other policies
   * have no meaning for artifacts and are refused.
   */
  public removalSetting(owner: IConstruct, type: string, policy: RemovalPolicy | undefined): { [REMOVAL_POLICY_SETTING]?: string } {
    if (policy === undefined || policy === RemovalPolicy.RETAIN) return {};
    if (policy !== RemovalPolicy.DESTROY) {
      throw constructError(owner, type, {
        prop: 'removalPolicy',
        value: policy,
        problem: 'has no meaning for an artifact, which is either kept or deleted with the stack',
        fix: 'Pass RemovalPolicy.RETAIN (the default) or RemovalPolicy.DESTROY.',
      });
    }
    return { [REMOVAL_POLICY_SETTING]: DESTROY };
  }

  /** Sends the events of a source to the function: one branch of the event rule per key. */
  public watch(key: string, branch: PatternBranch): void {
    this.branches.set(key, branch);
  }

  /**
   * The jobs resource of a job. Its level is the one after every job whose result its settings read (a
   * layered bake reads its foundation's AMI id), so that no resource waits for its own waits; within a
   * level, a resource takes jobs until its request would grow too large, then the next one does.
   */
  private generationFor(owner: IConstruct, props: Omit<JobProperties, 'Key' | 'Handle' | 'TimeoutSeconds'>) {
    const stack = Stack.of(owner);
    const settings = JSON.stringify(stack.resolve(props));
    let level = 0;
    // A job reads another's result through `Fn::GetAtt [<its result lookup>, Id]`: `"<lookup>","Id"]`.
    if (settings.includes('","Id"]')) {
      for (const g of this.generations) {
        if (g.jobs.some((j) => settings.includes(`"${this.resolvedKey(j)}","${LOOKUP_ATTRIBUTE}"]`))) level = Math.max(level, g.level + 1);
      }
    }
    const bytes = Buffer.byteLength(settings, 'utf8') + JOB_OVERHEAD_BYTES;
    const open = this.generations.find((g) => g.level === level && g.bytes + bytes <= MAX_JOBS_BYTES);
    if (open) {
      open.bytes += bytes;
      return open;
    }
    const index = this.generations.length;
    const jobs: JobEntry[] = [];
    const resource = new CustomResource(this, index === 0 ? 'Jobs' : `Jobs${index + 1}`, {
      serviceToken: this.function.functionArn,
      resourceType: JOBS_RESOURCE_TYPE,
      serviceTimeout: SERVICE_TIMEOUT,
      properties: { Jobs: Lazy.any({ produce: () => jobs.map((j) => j.props) }, { omitEmptyArray: false }) },
    });
    resource.node.addDependency(this.poll);
    const generation = { resource, jobs, level, bytes };
    this.generations.push(generation);
    return generation;
  }

  /** The logical id of a job's result lookup, resolved once. */
  private resolvedKey(job: JobEntry): string {
    let key = this.keys.get(job);
    if (key === undefined) {
      key = Stack.of(job.result).getLogicalId(job.result.node.defaultChild as CfnResource);
      this.keys.set(job, key);
    }
    return key;
  }

  private renderPattern(): unknown {
    const branches = [...this.branches.keys()].sort().map((k) => this.branches.get(k)!);
    if (branches.length === 0) return { source: ['cdk-immutable-deploys.none'] };
    return branches.length === 1 ? branches[0] : { $or: branches };
  }

  /**
   * A job too large for a request on its own (its resource holds only it), or whose settings without
   * the start-only ones (component documents) do not fit the state the runtime keeps while it is
   * pending (one SSM parameter, at most 8 KB).
   */
  private validateSize(): string[] {
    const stack = Stack.of(this);
    const errors = this.generations.filter((g) => g.bytes > MAX_JOBS_BYTES).map((g) =>
      `The deploy-time job of ${g.jobs[0].owner.node.path} takes about ${g.bytes} bytes, more than the ${MAX_JOBS_BYTES} that fit one CloudFormation request to the runtime of stack ${stack.node.path} (Lambda takes at most 256 KB, old and new properties together). ` +
      'Move long scripts into files (BakeStep.file or BakeStep.directory).');
    for (const { owner, props } of this.generations.flatMap((g) => g.jobs)) {
      const startOnly = START_ONLY[props.Kind] ?? [];
      const kept = { ...props, Spec: Object.fromEntries(Object.entries(props.Spec).filter(([name]) => !startOnly.includes(name))) };
      const bytes = Buffer.byteLength(JSON.stringify(stack.resolve(kept)), 'utf8');
      if (bytes > MAX_PENDING_JOB_BYTES) {
        errors.push(`The deploy-time job of ${owner.node.path} keeps about ${bytes} bytes of settings while it is pending (without its ${startOnly.join(' and ') || 'documents'}), more than the ${MAX_PENDING_JOB_BYTES} that fit the runtime's state (an SSM parameter takes at most 8 KB). ` +
        'Use fewer steps (merge short ones into one) or fewer distribution regions, or a shorter construct path.');
      }
    }
    return errors;
  }
}

/** The logical ids of a role's default policy and overflow policies, comma-separated. */
function policyIdsOf(stack: Stack, role: IConstruct): string {
  return role.node.children
    .filter((c) => c.node.id === 'DefaultPolicy' || /^OverflowPolicy\d+$/.test(c.node.id))
    .map((c) => c.node.defaultChild)
    .filter((c): c is CfnResource => c instanceof CfnResource)
    .map((c) => stack.getLogicalId(c))
    .join(',');
}

/**
 * The prefix of the runtime's two rule names (`-poll`, `-events`): the stack's name and a hash of it,
 * so that the names stay within EventBridge's 64 characters and no other stack's rule matches it. A
 * nested stack's name is known only at deploy time: its prefix comes from its root's name and its path
 * below it when its construct path alone does not tell it apart (`nestedStackIdentity`), else from
 * its construct path (as before, so that existing rules keep their names).
 */
function rulePrefixOf(stack: Stack): string {
  if (Token.isUnresolved(stack.stackName)) {
    const identity = nestedStackIdentity(stack);
    if (identity !== undefined) return `cdk-immutable-deploys-${Fingerprint.ofString(identity).short.slice(0, 16)}`;
    return `cdk-immutable-deploys-${Names.uniqueId(stack).slice(-16)}`;
  }
  const hash = Fingerprint.ofString(stack.stackName).short.slice(0, 8);
  return `${stack.stackName.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40)}-jobs-${hash}`;
}

