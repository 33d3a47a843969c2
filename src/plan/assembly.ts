/**
 * Reads the stacks of a cloud assembly (a `cdk.out` directory): its `manifest.json`, the template
 * of every `aws:cloudformation:stack` artifact, the nested assemblies of stages (`cdk:cloud-assembly`
 * artifacts), and the nested stacks of every stack (`AWS::CloudFormation::Stack` resources whose
 * template is a file of the assembly), recursively. No AWS SDK, no aws-cdk-lib: plain files.
 *
 * Internal to the plan command: never exported from the package.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PlanError } from './errors';

/** A CloudFormation template, as far as the plan reads it. */
export interface Template {
  readonly Resources?: { readonly [logicalId: string]: TemplateResource };
  readonly Metadata?: { readonly [key: string]: unknown };
  readonly [section: string]: unknown;
}

/** One resource of a template. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: { readonly [name: string]: unknown };
  readonly Metadata?: { readonly [key: string]: unknown };
  readonly [attribute: string]: unknown;
}

/** A role of the stack's bootstrap environment, as the manifest names it (`lookupRole`). */
export interface BootstrapRole {
  /** The role's ARN, with `${AWS::Partition}`, `${AWS::AccountId}` and `${AWS::Region}` when the stack is environment-agnostic. */
  readonly arn: string;
  readonly assumeRoleExternalId?: string;
  readonly assumeRoleAdditionalOptions?: { readonly [name: string]: unknown };
}

/** One stack of an assembly, top-level or nested. */
export interface AssemblyStack {
  /**
   * The stack's name in the assembly, with its stages: `Prod/Web` (the manifest's display name); for
   * a nested stack, its construct path (`Prod/Web/Inner`).
   */
  readonly name: string;
  /**
   * The CloudFormation stack name. CloudFormation names a nested stack when it creates it: for a
   * nested stack this is its `name`.
   */
  readonly stackName: string;
  /** The account, or undefined when the stack is environment-agnostic. A nested stack's is its parent's. */
  readonly account?: string;
  /** The region, or undefined when the stack is environment-agnostic. A nested stack's is its parent's. */
  readonly region?: string;
  readonly template: Template;
  /** The role the CDK CLI assumes to read the stack (`cdk diff`), when the stack's synthesizer names one. */
  readonly lookupRole?: BootstrapRole;
  /** For a nested stack: the stack that holds it, and the logical id of its `AWS::CloudFormation::Stack` there. */
  readonly nested?: { readonly parent: AssemblyStack; readonly logicalId: string };
}

/** The resource type of a nested stack. */
export const NESTED_STACK_TYPE = 'AWS::CloudFormation::Stack';

interface ManifestArtifact {
  readonly type: string;
  readonly environment?: string;
  readonly displayName?: string;
  readonly properties?: {
    readonly templateFile?: string;
    readonly stackName?: string;
    readonly directoryName?: string;
    readonly file?: string;
    readonly lookupRole?: BootstrapRole;
  };
  readonly metadata?: { readonly [path: string]: MetadataEntry[] };
  readonly additionalMetadataFile?: string;
}

/** A file asset of an asset manifest: where it comes from, and the object keys it is published under. */
interface FileAsset {
  readonly source?: { readonly path?: string };
  readonly destinations?: { readonly [id: string]: { readonly objectKey?: string } };
}

interface MetadataEntry {
  readonly type: string;
  readonly data?: unknown;
}

/**
 * Every stack of the assembly in `directory`, of its nested assemblies and their nested stacks, in
 * manifest order, each nested stack right after the stack that holds it.
 *
 * @param directory a `cdk.out` directory
 */
export function readAssembly(directory: string): AssemblyStack[] {
  const manifestFile = path.join(directory, 'manifest.json');
  if (!fs.existsSync(manifestFile)) {
    throw new PlanError(`${directory} is not a cloud assembly: it has no manifest.json. Pass the output directory of 'cdk synth' (cdk.out by default).`);
  }
  return readNested(directory, manifestFile, new Set());
}

/**
 * The cloud assembly to plan when none is named: the `output` of `cdk.json` in the current
 * directory, as `cdk synth` writes it, else `cdk.out`.
 */
export function defaultAssembly(cwd: string = process.cwd()): string {
  const cdkJson = path.join(cwd, 'cdk.json');
  if (fs.existsSync(cdkJson)) {
    const output = (readJson(cdkJson) as { output?: unknown }).output;
    if (typeof output === 'string' && output !== '') return output;
  }
  return 'cdk.out';
}

function readNested(directory: string, manifestFile: string, seen: Set<string>): AssemblyStack[] {
  const real = fs.realpathSync(directory);
  if (seen.has(real)) return [];
  seen.add(real);
  const manifest = readJson(manifestFile) as { artifacts?: { [id: string]: ManifestArtifact } };
  const artifacts = Object.entries(manifest.artifacts ?? {});
  const stacks: AssemblyStack[] = [];
  for (const [id, artifact] of artifacts) {
    if (artifact.type === 'aws:cloudformation:stack') {
      const templateFile = artifact.properties?.templateFile;
      if (!templateFile) throw new PlanError(`${manifestFile}: stack ${id} names no templateFile.`);
      const [account, region] = parseEnvironment(artifact.environment);
      const stack: AssemblyStack = {
        name: artifact.displayName ?? id,
        stackName: artifact.properties?.stackName ?? id,
        account,
        region,
        template: readJson(path.join(directory, templateFile)) as Template,
        ...(artifact.properties?.lookupRole?.arn ? { lookupRole: artifact.properties.lookupRole } : {}),
      };
      const files = new NestedFiles(directory, stack.name, artifacts.map(([, a]) => a), logicalIdsOf(directory, artifact));
      stacks.push(stack, ...nestedStacksOf(stack, files));
    } else if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
      const nested = path.join(directory, artifact.properties.directoryName);
      stacks.push(...readNested(nested, path.join(nested, 'manifest.json'), seen));
    }
  }
  return stacks;
}

/**
 * The nested stacks of a stack, recursively: every `AWS::CloudFormation::Stack` resource whose
 * template the assembly holds, found as `cdk diff` finds it (the resource's `aws:asset:path`
 * metadata, which `cdk synth` writes) or, without asset metadata, by the object key of its
 * `TemplateURL` in the assembly's asset manifests.
 */
function nestedStacksOf(parent: AssemblyStack, files: NestedFiles): AssemblyStack[] {
  const found: AssemblyStack[] = [];
  for (const [logicalId, resource] of Object.entries(parent.template.Resources ?? {})) {
    if (resource.Type !== NESTED_STACK_TYPE) continue;
    const file = files.templateOf(resource);
    if (!file) continue;
    const name = files.pathOf(parent, logicalId) ?? `${parent.name}/${logicalId}`;
    const nested: AssemblyStack = {
      name,
      stackName: name,
      account: parent.account,
      region: parent.region,
      template: readJson(file) as Template,
      ...(parent.lookupRole ? { lookupRole: parent.lookupRole } : {}),
      nested: { parent, logicalId },
    };
    found.push(nested, ...nestedStacksOf(nested, files));
  }
  return found;
}

/** A nested stack's resource: `/<nested stack path>.NestedStack/<id>.NestedStackResource`. */
const NESTED_RESOURCE_PATH = /^\/(.+)\.NestedStack\/[^/]+\.NestedStackResource$/;

/** Where the nested templates of one top-level stack are, and the construct paths of their resources. */
class NestedFiles {
  private assetPaths?: Map<string, string>;

  constructor(
    private readonly directory: string,
    /** The top-level stack's name (its construct path). */
    private readonly root: string,
    private readonly artifacts: ManifestArtifact[],
    /** Construct path (`/Prod/Web/Inner.NestedStack/Inner.NestedStackResource`) by logical id, for every resource of the stack and its nested stacks. */
    private readonly logicalIds: Array<[string, string]>,
  ) {}

  /** The nested template's file, or undefined when the assembly does not hold it (a stack deployed from a URL). */
  public templateOf(resource: TemplateResource): string | undefined {
    const assetPath = resource.Metadata?.['aws:asset:path'];
    if (typeof assetPath === 'string') return this.existing(assetPath);
    const url = JSON.stringify(resource.Properties?.TemplateURL ?? '');
    for (const [objectKey, source] of this.fileAssets()) {
      if (url.includes(`/${objectKey}"`)) return this.existing(source);
    }
    return undefined;
  }

  /**
   * The nested stack's construct path, from the stack's `aws:cdk:logicalId` metadata: the nested
   * stack resource of `Prod/Web/Inner` is `/Prod/Web/Inner.NestedStack/Inner.NestedStackResource`.
   * A logical id is unique within its template only, so the path must lie under the parent's.
   */
  public pathOf(parent: AssemblyStack, logicalId: string): string | undefined {
    const nestedPaths = this.logicalIds.map(([p]) => NESTED_RESOURCE_PATH.exec(p)?.[1]).filter((p): p is string => p !== undefined);
    for (const [constructPath, id] of this.logicalIds) {
      const name = NESTED_RESOURCE_PATH.exec(constructPath)?.[1];
      if (id !== logicalId || !name) continue;
      // The stack that holds it: the longest nested stack path above it, else the top-level stack.
      const holder = nestedPaths.filter((p) => name.startsWith(`${p}/`)).sort((a, b) => b.length - a.length)[0];
      if ((holder ?? this.root) === parent.name) return name;
    }
    return undefined;
  }

  private existing(relative: string): string | undefined {
    const file = path.join(this.directory, relative);
    return fs.existsSync(file) ? file : undefined;
  }

  /** Object key → source file of every file asset of the assembly's asset manifests. */
  private fileAssets(): Map<string, string> {
    if (this.assetPaths) return this.assetPaths;
    this.assetPaths = new Map();
    for (const artifact of this.artifacts) {
      if (artifact.type !== 'cdk:asset-manifest' || !artifact.properties?.file) continue;
      const file = path.join(this.directory, artifact.properties.file);
      if (!fs.existsSync(file)) continue;
      const manifest = readJson(file) as { files?: { [hash: string]: FileAsset } };
      for (const asset of Object.values(manifest.files ?? {})) {
        for (const destination of Object.values(asset.destinations ?? {})) {
          if (destination.objectKey && asset.source?.path) this.assetPaths.set(destination.objectKey, asset.source.path);
        }
      }
    }
    return this.assetPaths;
  }
}

/** `[construct path, logical id]` of every resource a stack artifact's metadata records (inline, or in its metadata file). */
function logicalIdsOf(directory: string, artifact: ManifestArtifact): Array<[string, string]> {
  let metadata = artifact.metadata ?? {};
  if (artifact.additionalMetadataFile) {
    const file = path.join(directory, artifact.additionalMetadataFile);
    if (fs.existsSync(file)) metadata = { ...metadata, ...(readJson(file) as typeof metadata) };
  }
  const ids: Array<[string, string]> = [];
  for (const [constructPath, entries] of Object.entries(metadata)) {
    for (const entry of entries ?? []) {
      if (entry.type === 'aws:cdk:logicalId' && typeof entry.data === 'string') ids.push([constructPath, entry.data]);
    }
  }
  return ids;
}

/** `aws://123456789012/eu-west-1`; `unknown-account` and `unknown-region` are environment-agnostic. */
function parseEnvironment(environment: string | undefined): [string | undefined, string | undefined] {
  const match = /^aws:\/\/([^/]+)\/([^/]+)$/.exec(environment ?? '');
  if (!match) return [undefined, undefined];
  return [match[1] === 'unknown-account' ? undefined : match[1], match[2] === 'unknown-region' ? undefined : match[2]];
}

function readJson(file: string): unknown {
  if (!fs.existsSync(file)) throw new PlanError(`${file} does not exist: is the cloud assembly complete? Run 'cdk synth' again.`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PlanError(`${file} is not valid JSON (${(e as Error).message}).`);
  }
}

/** The logical ids of the nested stacks a template holds. */
export function nestedStackIds(template: Template | undefined): string[] {
  return Object.entries(template?.Resources ?? {}).filter(([, r]) => r.Type === NESTED_STACK_TYPE).map(([id]) => id);
}
