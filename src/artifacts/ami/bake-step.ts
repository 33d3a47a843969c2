import * as path from 'path';
import { ArnFormat, AssetHashType, IgnoreMode, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import type { BakeStepConfig, BakeStepContext } from './binding';
import { componentDocumentProblems, documentPhases, undeclaredVariables } from './component-document';
import { Fingerprint } from '../../fingerprint';
import { optionError, warn } from '../../internal/errors';
import { requirePath } from '../../internal/paths';

/**
 * Options for `BakeStep.directory()`.
 */
export interface BakeStepDirectoryOptions {
  /**
   * Patterns of files to leave out, with `.dockerignore` rules (`**` matches any number of
   * directories, a leading `!` re-includes). Left-out files are neither shipped nor fingerprinted.
   *
   * @default - every file of the directory is shipped
   */
  readonly exclude?: string[];
}

/**
 * One step of an AMI bake: an EC2 Image Builder component that runs on the build instance
 * (or, as a test step, on a test instance launched from the new image).
 *
 * Every step counts in the bake's fingerprint: its document and the content of every file it ships.
 */
export abstract class BakeStep {
  /**
   * Runs shell commands: bash on Linux (with `set -eo pipefail`, so the first failing command
   * fails the step), PowerShell on Windows (with `$ErrorActionPreference = 'Stop'`).
   *
   * @param commands the commands, run in order in one script
   */
  public static shell(commands: string[]): BakeStep {
    if (commands.length === 0) {
      throw optionError('BakeStep.shell()', { prop: 'commands', problem: 'is empty', fix: 'Pass at least one command.' });
    }
    for (const c of Token.isUnresolved(commands) ? ['(a list token)'] : commands) {
      if (Token.isUnresolved(commands) || Token.isUnresolved(c)) {
        throw optionError('BakeStep.shell()', { prop: 'commands', problem: 'holds an unresolved token', fix: "The commands count in the bake's fingerprint, so they must be known at synth time; pass literal commands." });
      }
      if (c.includes('{{')) {
        throw optionError('BakeStep.shell()', {
          prop: 'commands',
          problem: `has '${c}', with '{{': AWSTOE reads {{ ... }} in a component document as a variable (a parameter, constant or step output) and documents no escape, so the command would fail or change on the build instance`,
          fix: "Ship the script as a file, which AWSTOE does not read (BakeStep.file('script.sh', '/tmp/script.sh')), and run it with BakeStep.shell(['bash /tmp/script.sh']).",
        });
      }
    }
    return new ShellStep([...commands]);
  }

  /**
   * Runs an EC2 Image Builder component document (AWSTOE YAML) as given. It is checked when
   * synthesized: YAML syntax (with the line), `schemaVersion`, `phases` with known names,
   * steps with names and known actions, and the 16,000-character limit of Image Builder.
   *
   * @param yaml the component document
   */
  public static document(yaml: string): BakeStep {
    if (Token.isUnresolved(yaml)) {
      throw optionError('BakeStep.document()', { prop: 'yaml', problem: 'is an unresolved token', fix: "The document counts in the bake's fingerprint, so it must be known at synth time; pass its text." });
    }
    const problems = [...componentDocumentProblems(yaml), ...undeclaredVariables(yaml)];
    if (problems.length > 0) {
      throw optionError('BakeStep.document()', {
        prop: 'yaml',
        problem: `is a malformed component document:\n  - ${problems.join('\n  - ')}\n`,
        fix: 'Fix the document (see https://docs.aws.amazon.com/imagebuilder/latest/userguide/toe-use-documents.html); text that must keep {{ }} as it is (a Go, Docker, Helm or Ansible template) goes in a file step (BakeStep.file), which AWSTOE does not read.',
      });
    }
    return new DocumentStep(yaml);
  }

  /**
   * Ships one local file to the build instance: it becomes an S3 asset, which the instance
   * downloads to `remotePath`. The file's content counts in the fingerprint.
   *
   * @param localPath the file on this machine
   * @param remotePath the absolute path on the instance
   */
  public static file(localPath: string, remotePath: string): BakeStep {
    const local = requirePath('BakeStep.file()', 'localPath', localPath, 'file', 'Pass the path of an existing file; use BakeStep.directory() for a directory.');
    checkRemotePath('BakeStep.file()', remotePath);
    return new FileStep(local, remotePath);
  }

  /**
   * Ships a local directory to the build instance: it becomes an S3 asset (a zip file), which
   * the instance downloads and extracts into `remotePath`. The content of every shipped file
   * counts in the fingerprint.
   *
   * @param localPath the directory on this machine
   * @param remotePath the absolute path of the directory on the instance
   * @param options files to leave out
   */
  public static directory(localPath: string, remotePath: string, options: BakeStepDirectoryOptions = {}): BakeStep {
    const local = requirePath('BakeStep.directory()', 'localPath', localPath, 'directory', 'Pass the path of an existing directory; use BakeStep.file() for a file.');
    checkRemotePath('BakeStep.directory()', remotePath);
    return new DirectoryStep(local, remotePath, options.exclude ?? []);
  }

  /**
   * Runs an AWS-managed Image Builder component, such as `update-linux` or
   * `amazon-cloudwatch-agent-linux`.
   *
   * Pin an exact version (`1.0.2`): a version with `x` (`1.x.x`) takes whatever AWS published last
   * when the image is built, so the same fingerprint could give different images.
   *
   * @param name the component's name
   * @param version the component's semantic version
   */
  public static awsManaged(name: string, version: string): BakeStep {
    if (!Token.isUnresolved(name) && !/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
      throw optionError('BakeStep.awsManaged()', { prop: 'name', value: name, problem: 'is not an Image Builder component name', fix: "Pass the lowercase name, such as 'update-linux'." });
    }
    if (!Token.isUnresolved(version) && !/^(\d+|x)\.(\d+|x)\.(\d+|x)$/.test(version)) {
      throw optionError('BakeStep.awsManaged()', { prop: 'version', value: version, problem: 'is not a semantic version', fix: "Pass major.minor.patch, such as '1.0.2'." });
    }
    if (Token.isUnresolved(name) || Token.isUnresolved(version)) {
      throw optionError('BakeStep.awsManaged()', { prop: Token.isUnresolved(name) ? 'name' : 'version', problem: 'is an unresolved token', fix: "Name and version count in the bake's fingerprint, so they must be known at synth time; pass literal values." });
    }
    return new ManagedStep(name, version);
  }

  /**
   * Reboots the instance; the following steps run after it is back.
   */
  public static reboot(): BakeStep {
    return new RebootStep();
  }

  protected constructor() {}

  /**
   * Binds the step to a bake.
   *
   * @internal
   */
  public abstract _bind(scope: Construct, context: BakeStepContext): BakeStepConfig;
}

function checkRemotePath(method: string, remotePath: string) {
  if (Token.isUnresolved(remotePath)) {
    throw optionError(method, { prop: 'remotePath', problem: 'is an unresolved token', fix: "It counts in the bake's fingerprint; pass a literal path." });
  }
  if (!(remotePath.startsWith('/') || /^[A-Za-z]:\\/.test(remotePath))) {
    throw optionError(method, { prop: 'remotePath', problem: `'${remotePath}' is not absolute`, fix: "Pass an absolute path on the instance, such as '/opt/app/config.json' or 'C:\\app\\config.json'." });
  }
}

function isWindows(context: BakeStepContext): boolean {
  return context.osType === ec2.OperatingSystemType.WINDOWS;
}

/** Renders an AWSTOE document as JSON, which is YAML too. Deterministic: key order is fixed here. */
function renderDocument(name: string, description: string, phase: string, steps: object[]): string {
  return JSON.stringify({ name, description, schemaVersion: '1.0', phases: [{ name: phase, steps }] }, undefined, 2);
}

function shellAction(context: BakeStepContext, name: string, commands: string[]): object {
  return isWindows(context)
    ? { name, action: 'ExecutePowerShell', inputs: { commands: ["$ErrorActionPreference = 'Stop'", ...commands] } }
    : { name, action: 'ExecuteBash', inputs: { commands: ['set -eo pipefail', ...commands] } };
}

class ShellStep extends BakeStep {
  constructor(private readonly commands: string[]) {
    super();
  }

  public _bind(_scope: Construct, context: BakeStepContext): BakeStepConfig {
    const description = `shell: ${this.commands[0]}`.slice(0, 200);
    const document = renderDocument('Shell', description, context.phase, [shellAction(context, 'Run', this.commands)]);
    return { document, description, fingerprint: Fingerprint.ofString(document) };
  }
}

class DocumentStep extends BakeStep {
  constructor(private readonly yaml: string) {
    super();
  }

  public _bind(scope: Construct, context: BakeStepContext): BakeStepConfig {
    if (context.phase === 'test' && !documentPhases(this.yaml).includes('test')) {
      warn(scope, 'ami-test-step-without-test-phase',
        `Test step ${context.id} is a component document without a 'test' phase: Image Builder runs only the test phase of test components, so it checks nothing. Add a 'test' phase.`,
      );
    }
    return { document: this.yaml, description: 'component document', fingerprint: Fingerprint.ofString(this.yaml) };
  }
}

class FileStep extends BakeStep {
  constructor(private readonly localPath: string, private readonly remotePath: string) {
    super();
  }

  public _bind(scope: Construct, context: BakeStepContext): BakeStepConfig {
    const content = Fingerprint.ofFile(this.localPath);
    const asset = new s3assets.Asset(scope, `${context.id}File`, {
      path: this.localPath,
      assetHash: content.hex,
      assetHashType: AssetHashType.CUSTOM,
    });
    const description = `file: ${path.basename(this.localPath)} to ${this.remotePath}`.slice(0, 200);
    const steps = [{ name: 'Download', action: 'S3Download', inputs: [{ source: context.stage(asset), destination: this.remotePath, overwrite: true }] }];
    const document = renderDocument('File', description, context.phase, steps);
    // The document holds the asset's bucket (a token); the fingerprint counts the file's content instead.
    const placeholder = renderDocument('File', description, context.phase, [{ ...steps[0], inputs: [{ source: `sha256:${content.hex}`, destination: this.remotePath, overwrite: true }] }]);
    return { document, description, fingerprint: Fingerprint.ofString(placeholder), files: [['file', path.basename(this.localPath), content.hex]] };
  }
}

/**
 * Extracts a zip file with Python when the image has no `unzip` (Amazon Linux 2023 and Ubuntu AMIs do
 * not), restoring each file's Unix mode from the archive as `unzip` does: Python's own `zipfile -e`
 * writes every file with the umask (0644), so a shipped script would lose its executable bit.
 */
const PYTHON_UNZIP = 'import os,sys,zipfile;z=zipfile.ZipFile(sys.argv[1]);'
  + '[(lambda i,p:os.chmod(p,(i.external_attr>>16)&0o7777) if (i.external_attr>>16)&0o7777 and not i.is_dir() else None)(i,z.extract(i,sys.argv[2])) for i in z.infolist()]';

class DirectoryStep extends BakeStep {
  constructor(private readonly localPath: string, private readonly remotePath: string, private readonly exclude: string[]) {
    super();
  }

  public _bind(scope: Construct, context: BakeStepContext): BakeStepConfig {
    const { fingerprint: content, entries } = Fingerprint._ofDirectoryEntries(this.localPath, { exclude: this.exclude, useDockerignore: false });
    const asset = new s3assets.Asset(scope, `${context.id}Directory`, {
      path: this.localPath,
      exclude: this.exclude,
      ignoreMode: IgnoreMode.DOCKER,
      assetHash: content.hex,
      assetHashType: AssetHashType.CUSTOM,
    });
    const windows = isWindows(context);
    const zip = windows ? `C:\\Windows\\Temp\\cdk-immutable-deploys-${content.short}.zip` : `/tmp/cdk-immutable-deploys-${content.short}.zip`;
    const extract = windows
      ? [`New-Item -ItemType Directory -Force -Path '${this.remotePath}' | Out-Null`, `Expand-Archive -Force -Path '${zip}' -DestinationPath '${this.remotePath}'`, `Remove-Item -Force '${zip}'`]
      : [
        `mkdir -p '${this.remotePath}'`,
        `if command -v unzip >/dev/null 2>&1; then unzip -oq '${zip}' -d '${this.remotePath}'; else python3 -c '${PYTHON_UNZIP}' '${zip}' '${this.remotePath}'; fi`,
        `rm -f '${zip}'`,
      ];
    const description = `directory: ${path.basename(this.localPath)} to ${this.remotePath}`.slice(0, 200);
    const download = (source: string) => ({ name: 'Download', action: 'S3Download', inputs: [{ source, destination: zip, overwrite: true }] });
    const document = renderDocument('Directory', description, context.phase, [download(context.stage(asset)), shellAction(context, 'Extract', extract)]);
    const placeholder = renderDocument('Directory', description, context.phase, [download(`sha256:${content.hex}`), shellAction(context, 'Extract', extract)]);
    return { document, description, fingerprint: Fingerprint.ofString(placeholder), files: entries };
  }
}

class ManagedStep extends BakeStep {
  constructor(private readonly name: string, private readonly version: string) {
    super();
  }

  public _bind(scope: Construct, context: BakeStepContext): BakeStepConfig {
    if (this.version.includes('x')) {
      warn(scope, 'ami-managed-component-unpinned',
        `${context.id} uses AWS-managed component '${this.name}' at version '${this.version}', which takes the newest matching version when the image is built: the same fingerprint can give different images. Pin an exact version.`,
      );
    }
    const componentArn = Stack.of(scope).formatArn({
      service: 'imagebuilder',
      account: 'aws',
      resource: 'component',
      resourceName: `${this.name}/${this.version}`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    return {
      componentArn,
      description: `AWS-managed component ${this.name} ${this.version}`,
      fingerprint: Fingerprint.ofJson({ kind: 'aws-managed', name: this.name, version: this.version }),
    };
  }
}

class RebootStep extends BakeStep {
  public _bind(_scope: Construct, context: BakeStepContext): BakeStepConfig {
    const description = 'reboot';
    const document = renderDocument('Reboot', description, context.phase, [{ name: 'Reboot', action: 'Reboot', onFailure: 'Abort', inputs: { delaySeconds: 0 } }]);
    return { document, description, fingerprint: Fingerprint.ofString(document) };
  }
}
