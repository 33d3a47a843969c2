import * as path from 'path';
import { AssetStaging, CfnResource, FileAssetLocation, FileAssetPackaging, Names, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { acknowledgeExact, functionOf } from '../nag';

/** Where `npx projen bundle` writes the runtime's handler (`.projenrc.ts`), from this module in lib/ (or src/). */
const RUNTIME_BUNDLE_DIR = path.join(__dirname, '..', '..', '..', 'assets', 'internal', 'runtime', 'runtime.singleton-lambda');

/** The singleton's id: one function per stack, whatever calls it. Never changed: it names the function's logical id. */
const RUNTIME_UUID = '9ed933286eae197c5289645108040085';

/**
 * The runtime's handler bundle, published as a file asset of the function's stack.
 *
 * It stages and registers the bundle as `lambda.Code.fromAsset()` does (the same asset, hash, staged
 * path, display name and resource metadata) but without the `s3.Bucket` construct that
 * `aws_s3_assets.Asset` imports for the asset bucket: that import loads aws-cdk-lib's region tables,
 * about 80 ms of every synth of a stack that uses nothing else that needs them. Like
 * `Code.fromAsset()`, it grants the function's role nothing on the asset bucket.
 */
class RuntimeCode extends lambda.Code {
  private staged?: { readonly path: string; readonly location: FileAssetLocation };

  /** Bound once: each runtime function (one per stack) has its own code. */
  public bind(scope: Construct): lambda.CodeConfig {
    if (!this.staged) {
      const stack = Stack.of(scope);
      const code = new Construct(scope, 'Code');
      const staging = new AssetStaging(code, 'Stage', { sourcePath: RUNTIME_BUNDLE_DIR });
      const stagedPath = staging.relativeStagedPath(stack);
      const location = stack.synthesizer.addFileAsset({
        packaging: FileAssetPackaging.ZIP_DIRECTORY,
        sourceHash: staging.assetHash,
        fileName: stagedPath,
        deployTime: true,
        displayName: Names.stackRelativeConstructPath(code),
      });
      this.staged = { path: stagedPath, location };
    }
    return { s3Location: { bucketName: this.staged.location.bucketName, objectKey: this.staged.location.objectKey } };
  }

  public bindToResource(resource: CfnResource, options: lambda.ResourceBindOptions = {}): void {
    // The metadata that tools such as the SAM CLI read to find a function's local code, as for any asset.
    if (!this.staged || !resource.node.tryGetContext(cxapi.ASSET_RESOURCE_METADATA_ENABLED_CONTEXT)) return;
    resource.cfnOptions.metadata = {
      ...resource.cfnOptions.metadata,
      [cxapi.ASSET_RESOURCE_METADATA_PATH_KEY]: this.staged.path,
      [cxapi.ASSET_RESOURCE_METADATA_IS_BUNDLED_KEY]: false,
      [cxapi.ASSET_RESOURCE_METADATA_PROPERTY_KEY]: options.resourceProperty ?? 'Code',
    };
  }
}

/**
 * Props of the runtime's function: a singleton function's, without the code, runtime, handler and
 * id, which are the runtime's.
 */
export interface RuntimeFunctionProps extends Omit<lambda.SingletonFunctionProps, 'uuid' | 'runtime' | 'handler' | 'code'> {
}

/**
 * The Lambda runtime the deploy-time code runs on: aws-cdk-lib's `Runtime.NODEJS_LATEST`, the newest
 * Node.js runtime Lambda offers in every region (aws-cdk-lib's own deploy-time functions run on it
 * too). It is nodejs24.x in aws-cdk-lib 2.271.0, the floor of the peer range, which the bundle
 * targets (`.projenrc.ts`), and moves with the app's aws-cdk-lib, never to a runtime some region
 * lacks.
 */
export const RUNTIME_NODEJS = lambda.Runtime.NODEJS_LATEST;

/** The major version of a Node.js runtime name (`nodejs24.x`), or undefined for another family. */
function nodeMajor(name: string): number | undefined {
  const match = /^nodejs(\d+)\.x$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * The newest Node.js runtime the app's aws-cdk-lib knows at all (`Runtime.ALL`): what cdk-nag's
 * AwsSolutions-L1 compares a function's runtime with.
 */
export function newestKnownNodejs(): string {
  let newest = RUNTIME_NODEJS.name;
  for (const runtime of lambda.Runtime.ALL) {
    if ((nodeMajor(runtime.name) ?? 0) > (nodeMajor(newest) ?? 0)) newest = runtime.name;
  }
  return newest;
}

/**
 * The stack's deploy-time runtime function: the bundle of `runtime.singleton-lambda.ts` on
 * `RUNTIME_NODEJS`.
 */
export class RuntimeFunction extends lambda.SingletonFunction {
  constructor(scope: Construct, id: string, props: RuntimeFunctionProps) {
    super(scope, id, {
      description: 'src/internal/runtime/runtime.singleton-lambda.ts',
      ...props,
      uuid: RUNTIME_UUID,
      runtime: RUNTIME_NODEJS,
      handler: 'index.handler',
      code: new RuntimeCode(),
    });
    this.addEnvironment('AWS_NODEJS_CONNECTION_REUSE_ENABLED', '1', { removeInEdge: true });
    // cdk-nag's AwsSolutions-L1 wants the newest Node.js runtime aws-cdk-lib knows, even one it does
    // not count as available in every region (nodejs26.x in aws-cdk-lib 2.278.0, whose NODEJS_LATEST
    // is nodejs24.x): acknowledged only while there is such a newer one.
    const newest = newestKnownNodejs();
    if (newest !== RUNTIME_NODEJS.name) {
      acknowledgeExact(functionOf(this), {
        id: 'AwsSolutions-L1',
        reason: `The runtime runs on aws-cdk-lib's Runtime.NODEJS_LATEST (${RUNTIME_NODEJS.name}), the newest Node.js runtime Lambda offers in every region, as aws-cdk-lib's own functions do. `
          + `${newest}, which this aws-cdk-lib also knows, is not yet one it counts as available in every region; the runtime moves to a newer one when aws-cdk-lib's NODEJS_LATEST does.`,
      });
    }
  }
}
