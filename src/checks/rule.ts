/**
 * What every ImmutabilityChecks rule shares: the shape of a rule and its verdicts, and the helpers
 * that read resolved CloudFormation values without guessing.
 *
 * A rule reads one kind of L1 resource, resolved with `Stack.of(node).resolve()`, and returns its
 * verdicts: nothing when the resource is compliant or the rule does not apply, `nonCompliant` with
 * what to do instead, or `unreadable` when a value it needs is only known at deploy time (a token),
 * which is always a warning and never a verdict.
 *
 * Internal: the rules are reached through `ImmutabilityChecks` only.
 */
import { CfnElement, CfnResource, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** A rule's verdict on one resource. */
export interface Verdict {
  /** `non-compliant`: the resource breaks the rule; `unreadable`: a token hides what the rule needs. */
  readonly kind: 'non-compliant' | 'unreadable';
  /** What is wrong and what to do instead, as sentences. */
  readonly message: string;
}

/** One rule: an id (`cdk-immutable-deploys:<id>` in findings), what it protects, and its check. */
export interface Rule {
  /** Lower-case words joined by '-', such as `mutable-image-tag`. */
  readonly id: string;
  /** What the rule protects, as the RULES.md table says it. */
  readonly protects: string;
  /** The verdicts on `resource`; none when compliant or not applicable. */
  check(resource: CfnResource, context: RuleContext): Verdict[];
}

/** What a rule may look up beyond its resource. */
export interface RuleContext {
  /** The resource of the same stack with this logical id, if any. */
  resourceByLogicalId(stack: Stack, logicalId: string): CfnElement | undefined;
}

export function nonCompliant(message: string): Verdict {
  return { kind: 'non-compliant', message };
}

export function unreadable(message: string): Verdict {
  return { kind: 'unreadable', message };
}

/** The resolved value of `value` in the stack of `scope`. */
export function resolve(scope: IConstruct, value: unknown): any {
  return Stack.of(scope).resolve(value);
}

/** Whether a resolved value is a CloudFormation intrinsic (`Ref`, `Fn::*`), i.e. known only at deploy time. */
export function isIntrinsic(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value as object);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::') || keys[0] === 'Condition');
}

/** The character that stands for a deploy-time value in a flattened string. */
export const TOKEN = '\u0001';

/**
 * A resolved string value as text: literal parts as they are, every deploy-time part (a `Ref`, an
 * attribute, an import, a `${...}` of `Fn::Sub`) as `TOKEN`. Joins and substitutions are
 * flattened; anything else that is not a string is one `TOKEN`.
 */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, any>;
    if (Array.isArray(o['Fn::Join']) && Array.isArray(o['Fn::Join'][1])) {
      return (o['Fn::Join'][1] as unknown[]).map(flatten).join(String(o['Fn::Join'][0]));
    }
    if (o['Fn::Sub'] !== undefined) {
      const template = Array.isArray(o['Fn::Sub']) ? o['Fn::Sub'][0] : o['Fn::Sub'];
      if (typeof template === 'string') return template.replace(/\$\{[^!}][^}]*\}/g, TOKEN);
    }
  }
  return TOKEN;
}

/** The logical ids a resolved value refers to (`Ref`, `Fn::GetAtt`, `${Id}` and `${Id.Attr}` of `Fn::Sub`). */
export function referencedLogicalIds(value: unknown): string[] {
  const ids = new Set<string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (v && typeof v === 'object') {
      const o = v as Record<string, any>;
      if (typeof o.Ref === 'string' && !o.Ref.startsWith('AWS::')) ids.add(o.Ref);
      if (Array.isArray(o['Fn::GetAtt']) && typeof o['Fn::GetAtt'][0] === 'string') ids.add(o['Fn::GetAtt'][0]);
      if (typeof o['Fn::GetAtt'] === 'string') ids.add(o['Fn::GetAtt'].split('.')[0]);
      const sub = o['Fn::Sub'];
      const template = Array.isArray(sub) ? sub[0] : sub;
      if (typeof template === 'string') {
        for (const m of template.matchAll(/\$\{([^!}.]+)(?:\.[^}]*)?\}/g)) {
          if (!m[1].startsWith('AWS::')) ids.add(m[1]);
        }
      }
      Object.values(o).forEach(visit);
    }
  };
  visit(value);
  return [...ids];
}

/** The resources of type `cfnType` that a resolved value refers to, in the stack of `scope`. */
export function referencedResources<T extends CfnResource>(
  scope: IConstruct, context: RuleContext, value: unknown, cfnType: string,
): T[] {
  const stack = Stack.of(scope);
  return referencedLogicalIds(value)
    .map((id) => context.resourceByLogicalId(stack, id))
    .filter((r): r is T => CfnResource.isCfnResource(r as IConstruct) && (r as CfnResource).cfnResourceType === cfnType);
}

let rendered = new WeakMap<CfnResource, any>();

/** Forgets what `properties()` and `updatePolicy()` read: called as each synthesis starts reading. */
export function forgetRendered(): void {
  rendered = new WeakMap();
}

/** A resource as CloudFormation will see it (type, properties with overrides, policies), resolved; read once per synthesis. */
function render(resource: CfnResource): any {
  if (!rendered.has(resource)) {
    const template = resolve(resource, (resource as any)._toCloudFormation());
    rendered.set(resource, Object.values(template.Resources ?? {})[0] ?? {});
  }
  return rendered.get(resource);
}

/** The resolved properties of an L1 resource, overrides included, as CloudFormation will see them. */
export function properties(resource: CfnResource): Record<string, any> {
  return render(resource).Properties ?? {};
}

/** The resolved `UpdatePolicy` of a resource as CloudFormation will see it, if any. */
export function updatePolicy(resource: CfnResource): Record<string, any> | undefined {
  return render(resource).UpdatePolicy;
}

/** The list of a resolved value, or undefined when it is not a list (a token, or missing). */
export function list(value: unknown): any[] | undefined {
  return Array.isArray(value) ? value : undefined;
}
