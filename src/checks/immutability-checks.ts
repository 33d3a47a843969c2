import { Annotations, CfnElement, CfnResource, IAspect, Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { ECS_SERVICE_WITHOUT_ROLLBACK } from './ecs-service-without-rollback';
import { GROUP_UPDATE_WITHOUT_REPLACEMENT } from './group-update-without-replacement';
import { IMAGE_BUILDER_LAUNCH_TEMPLATE_UPDATE } from './image-builder-launch-template-update';
import { IN_PLACE_PATCHING } from './in-place-patching';
import { MOVING_AMI_POINTER } from './moving-ami-pointer';
import { MUTABLE_IMAGE_TAG } from './mutable-image-tag';
import { MUTABLE_REPOSITORY } from './mutable-repository';
import { MUTABLE_USER_DATA } from './mutable-user-data';
import { forgetRendered, Rule, RuleContext, Verdict } from './rule';
import { UNPINNED_LAUNCH_TEMPLATE_VERSION } from './unpinned-launch-template-version';
import { acknowledgement, optionError, warn, WARNING_ID_PREFIX } from '../internal/errors';

/** How a rule reports a resource that breaks it. */
export enum CheckLevel {
  /** An error: `cdk synth` fails (and `cdk deploy` does not start) until it is fixed or acknowledged. */
  ERROR = 'error',
  /** A warning: shown by `cdk synth`, fatal only with `cdk synth --strict`. */
  WARNING = 'warning',
}

/** Options of `ImmutabilityChecks`. */
export interface ImmutabilityChecksProps {
  /**
   * The level of every rule not named in `ruleLevels`.
   *
   * @default CheckLevel.ERROR
   */
  readonly level?: CheckLevel;

  /**
   * The level of single rules, by rule id (`mutable-image-tag`, ...; the ids are in
   * `ImmutabilityChecks.RULE_IDS`). An id that is no rule is an error.
   *
   * @default - every rule at `level`
   */
  readonly ruleLevels?: { [ruleId: string]: CheckLevel };
}

const RULES: Rule[] = [
  MUTABLE_IMAGE_TAG,
  UNPINNED_LAUNCH_TEMPLATE_VERSION,
  GROUP_UPDATE_WITHOUT_REPLACEMENT,
  MOVING_AMI_POINTER,
  MUTABLE_USER_DATA,
  IN_PLACE_PATCHING,
  IMAGE_BUILDER_LAUNCH_TEMPLATE_UPDATE,
  ECS_SERVICE_WITHOUT_ROLLBACK,
  MUTABLE_REPOSITORY,
];

/**
 * Guardrails for any CDK app: an Aspect that flags the patterns by which immutability erodes,
 * wherever they are (a `latest` tag, a `$Latest` launch-template version, an AMI from an SSM
 * parameter, a `yum update` in user data, in-place patching, a service that cannot roll back...).
 *
 * Each rule reads L1 resources as CloudFormation will see them. A resource that breaks a rule gets
 * an error (or a warning, per rule) with the id `cdk-immutable-deploys:<rule>` and what to do
 * instead. A value the rule needs but cannot read at synth time (a token) gives a warning with the
 * same id, never a verdict.
 *
 * Acknowledge a finding with a reason, on the resource or any construct above it (never more):
 * `Validations.of(construct).acknowledge({ id: 'cdk-immutable-deploys:<rule>', reason })`.
 * Warnings may also be acknowledged with `Annotations.of(construct).acknowledgeWarning(id, reason)`.
 *
 * Add it to the app, after any aspect that changes resources:
 * `Aspects.of(app).add(new ImmutabilityChecks(), { priority: AspectPriority.READONLY })`.
 */
export class ImmutabilityChecks implements IAspect {
  /** The ids of every rule, as `ruleLevels` and acknowledgements name them (without the `cdk-immutable-deploys:` prefix). */
  public static readonly RULE_IDS: string[] = RULES.map((r) => r.id);

  /** The full id of a rule's findings, as acknowledgements name it: `cdk-immutable-deploys:<rule>`. */
  public static findingId(ruleId: string): string {
    if (!ImmutabilityChecks.RULE_IDS.includes(ruleId)) {
      throw optionError('ImmutabilityChecks.findingId()', { prop: 'ruleId', value: ruleId, problem: 'is not a rule', fix: `Pass one of ${ImmutabilityChecks.RULE_IDS.join(', ')}.` });
    }
    return `${WARNING_ID_PREFIX}:${ruleId}`;
  }

  private readonly levels: Map<string, CheckLevel>;
  private readonly indexes = new Map<Stack, Map<string, CfnElement>>();

  constructor(props: ImmutabilityChecksProps = {}) {
    const level = props.level ?? CheckLevel.ERROR;
    for (const id of Object.keys(props.ruleLevels ?? {})) {
      if (!ImmutabilityChecks.RULE_IDS.includes(id)) {
        throw optionError('new ImmutabilityChecks()', {
          prop: 'ruleLevels',
          value: id,
          problem: 'names no rule',
          fix: `Name one of ${ImmutabilityChecks.RULE_IDS.join(', ')}.`,
        });
      }
    }
    this.levels = new Map(RULES.map((r) => [r.id, props.ruleLevels?.[r.id] ?? level]));
  }

  public visit(node: IConstruct): void {
    if (Stack.isStack(node)) {
      // A stack is visited before what it holds: read its resources afresh at each synthesis.
      forgetRendered();
      this.indexes.delete(node);
    }
    if (!CfnResource.isCfnResource(node)) return;
    const context: RuleContext = { resourceByLogicalId: (stack, logicalId) => this.index(stack).get(logicalId) };
    for (const rule of RULES) {
      const findingId = `${WARNING_ID_PREFIX}:${rule.id}`;
      const verdicts = rule.check(node, context);
      if (verdicts.length === 0 || isAcknowledged(node, findingId)) continue;
      for (const verdict of verdicts) this.report(node, rule, verdict);
    }
  }

  private report(node: CfnResource, rule: Rule, verdict: Verdict): void {
    if (verdict.kind === 'unreadable' || this.levels.get(rule.id) === CheckLevel.WARNING) {
      warn(node, rule.id, verdict.message);
    } else {
      Annotations.of(node).addError(`${verdict.message} ${acknowledgement(rule.id)} [${WARNING_ID_PREFIX}:${rule.id}]`);
    }
  }

  /** The CloudFormation elements of a stack, by logical id. */
  private index(stack: Stack): Map<string, CfnElement> {
    let index = this.indexes.get(stack);
    if (index === undefined) {
      index = new Map();
      for (const child of stack.node.findAll()) {
        if (CfnElement.isCfnElement(child) && Stack.of(child) === stack) index.set(stack.resolve(child.logicalId), child);
      }
      this.indexes.set(stack, index);
    }
    return index;
  }
}

/**
 * Whether `Validations.of(c).acknowledge({ id })` was called on the node or a construct above it.
 * aws-cdk-lib records such an acknowledgement as metadata of that construct, under the id
 * `Annotation::<id>`.
 */
function isAcknowledged(node: IConstruct, findingId: string): boolean {
  const key = `Annotation::${findingId}`;
  return node.node.scopes.some((scope) => scope.node.metadata.some((m) =>
    m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && typeof m.data === 'object' && m.data !== null && key in (m.data as object)));
}
