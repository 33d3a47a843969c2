/**
 * Counts what a synthesized cloud assembly holds, from its templates only: nothing here knows
 * what a variant is expected to contain.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface AssemblyCounts {
  /** Resources of the stack's own template (the one CloudFormation's 500-resource quota applies to). */
  readonly resources: number;
  /** Resources of nested stacks' templates, if any. */
  readonly nestedResources: number;
  readonly resourcesByType: { [type: string]: number };
  readonly lambdaFunctions: number;
  readonly stateMachines: number;
  readonly customResources: number;
  /** Bytes of every template in the assembly, as written. */
  readonly templateBytes: number;
  readonly roles: number;
  /** The most managed policies attached to one role: AWS managed (ManagedPolicyArns) and customer managed (AWS::IAM::ManagedPolicy, including aws-cdk-lib's overflow policies). */
  readonly maxManagedPoliciesPerRole: number;
  /** The most inline policies of one role: AWS::IAM::Policy resources attached to it and its own `Policies`. */
  readonly maxInlinePoliciesPerRole: number;
  /** Bytes of the distinct staged assets the Lambda functions' code comes from (or of inline code). */
  readonly lambdaCodeBytes: number;
  /** Bytes of everything staged as an asset (`asset.*` in the assembly). */
  readonly stagedAssetBytes: number;
}

type Template = { Resources?: { [id: string]: { Type: string; Properties?: any } } };

/** Bytes of a file, or of every file under a directory. */
export function sizeOf(p: string): number {
  const stat = fs.lstatSync(p);
  if (!stat.isDirectory()) return stat.size;
  return fs.readdirSync(p).reduce((sum, name) => sum + sizeOf(path.join(p, name)), 0);
}

function refsOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((v) => (v && typeof v === 'object' && 'Ref' in v ? [String((v as { Ref: unknown }).Ref)] : []));
}

/** The asset hash in a Lambda function's S3Key ("<hash>.zip", possibly with a prefix). */
function assetHashOf(key: unknown): string | undefined {
  const text = typeof key === 'string' ? key : JSON.stringify(key ?? '');
  const match = /([0-9a-f]{64})\.zip/.exec(text);
  return match?.[1];
}

export function analyze(outdir: string, stackName = 'Bench'): AssemblyCounts {
  const templateFiles = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
  const templates = new Map<string, Template>(templateFiles.map((f) => [f, JSON.parse(fs.readFileSync(path.join(outdir, f), 'utf8'))]));
  const main = templates.get(`${stackName}.template.json`);
  if (!main) throw new Error(`no ${stackName}.template.json in ${outdir}: ${templateFiles.join(', ')}`);

  const resourcesByType: { [type: string]: number } = {};
  let nestedResources = 0;
  let maxManaged = 0;
  let maxInline = 0;
  let roles = 0;
  let inlineCode = 0;
  const codeAssets = new Set<string>();
  for (const [file, template] of templates) {
    const resources = template.Resources ?? {};
    if (file !== `${stackName}.template.json`) nestedResources += Object.keys(resources).length;
    const managedOf = new Map<string, Set<string>>();
    const inlineOf = new Map<string, number>();
    for (const [id, r] of Object.entries(resources)) {
      resourcesByType[r.Type] = (resourcesByType[r.Type] ?? 0) + 1;
      if (r.Type === 'AWS::IAM::Role') {
        roles++;
        const managed = managedOf.get(id) ?? new Set<string>();
        (r.Properties?.ManagedPolicyArns ?? []).forEach((arn: unknown, i: number) => {
          const ref = arn && typeof arn === 'object' && 'Ref' in arn ? String((arn as { Ref: unknown }).Ref) : `arn${i}`;
          managed.add(ref);
        });
        managedOf.set(id, managed);
        inlineOf.set(id, (inlineOf.get(id) ?? 0) + (r.Properties?.Policies?.length ?? 0));
      }
    }
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type === 'AWS::IAM::ManagedPolicy') {
        for (const role of refsOf(r.Properties?.Roles)) {
          const managed = managedOf.get(role) ?? new Set<string>();
          managed.add(id);
          managedOf.set(role, managed);
        }
      }
      if (r.Type === 'AWS::IAM::Policy') {
        for (const role of refsOf(r.Properties?.Roles)) inlineOf.set(role, (inlineOf.get(role) ?? 0) + 1);
      }
      if (r.Type === 'AWS::Lambda::Function') {
        const code = r.Properties?.Code ?? {};
        const hash = assetHashOf(code.S3Key);
        if (hash) codeAssets.add(hash);
        else if (typeof code.ZipFile === 'string') inlineCode += Buffer.byteLength(code.ZipFile);
      }
    }
    for (const set of managedOf.values()) maxManaged = Math.max(maxManaged, set.size);
    for (const n of inlineOf.values()) maxInline = Math.max(maxInline, n);
  }

  const assetDirs = fs.readdirSync(outdir).filter((f) => f.startsWith('asset.'));
  const lambdaCodeBytes = inlineCode + [...codeAssets].reduce((sum, hash) => {
    const staged = assetDirs.find((d) => d === `asset.${hash}` || d.startsWith(`asset.${hash}.`));
    return sum + (staged ? sizeOf(path.join(outdir, staged)) : 0);
  }, 0);

  const count = (type: string) => resourcesByType[type] ?? 0;
  return {
    resources: Object.keys(main.Resources ?? {}).length,
    nestedResources,
    resourcesByType,
    lambdaFunctions: count('AWS::Lambda::Function'),
    stateMachines: count('AWS::StepFunctions::StateMachine'),
    customResources: Object.entries(resourcesByType)
      .filter(([t]) => t.startsWith('Custom::') || t === 'AWS::CloudFormation::CustomResource')
      .reduce((s, [, c]) => s + c, 0),
    templateBytes: templateFiles.reduce((s, f) => s + sizeOf(path.join(outdir, f)), 0),
    roles,
    maxManagedPoliciesPerRole: maxManaged,
    maxInlinePoliciesPerRole: maxInline,
    lambdaCodeBytes,
    stagedAssetBytes: assetDirs.reduce((s, d) => s + sizeOf(path.join(outdir, d)), 0),
  };
}
