/**
 * Reads the stacks of a cloud assembly (a `cdk.out` directory): its `manifest.json`, the template
 * of every `aws:cloudformation:stack` artifact, and the nested assemblies of stages
 * (`cdk:cloud-assembly` artifacts), recursively. No AWS SDK, no aws-cdk-lib: plain files.
 *
 * Internal to the plan command: never exported from the package.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PlanError } from './errors';

/** A CloudFormation template, as far as the plan reads it. */
export interface Template {
  readonly Resources?: { readonly [logicalId: string]: TemplateResource };
  readonly [section: string]: unknown;
}

/** One resource of a template. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: { readonly [name: string]: unknown };
  readonly Metadata?: { readonly [key: string]: unknown };
  readonly [attribute: string]: unknown;
}

/** One stack of an assembly. */
export interface AssemblyStack {
  /** The stack's name in the assembly, with its stages: `Prod/Web` (the manifest's display name). */
  readonly name: string;
  /** The CloudFormation stack name. */
  readonly stackName: string;
  /** The account, or undefined when the stack is environment-agnostic. */
  readonly account?: string;
  /** The region, or undefined when the stack is environment-agnostic. */
  readonly region?: string;
  readonly template: Template;
}

interface ManifestArtifact {
  readonly type: string;
  readonly environment?: string;
  readonly displayName?: string;
  readonly properties?: { readonly templateFile?: string; readonly stackName?: string; readonly directoryName?: string };
}

/**
 * Every stack of the assembly in `directory` and of its nested assemblies, in manifest order.
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

function readNested(directory: string, manifestFile: string, seen: Set<string>): AssemblyStack[] {
  const real = fs.realpathSync(directory);
  if (seen.has(real)) return [];
  seen.add(real);
  const manifest = readJson(manifestFile) as { artifacts?: { [id: string]: ManifestArtifact } };
  const stacks: AssemblyStack[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type === 'aws:cloudformation:stack') {
      const templateFile = artifact.properties?.templateFile;
      if (!templateFile) throw new PlanError(`${manifestFile}: stack ${id} names no templateFile.`);
      const [account, region] = parseEnvironment(artifact.environment);
      stacks.push({
        name: artifact.displayName ?? id,
        stackName: artifact.properties?.stackName ?? id,
        account,
        region,
        template: readJson(path.join(directory, templateFile)) as Template,
      });
    } else if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
      const nested = path.join(directory, artifact.properties.directoryName);
      stacks.push(...readNested(nested, path.join(nested, 'manifest.json'), seen));
    }
  }
  return stacks;
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
