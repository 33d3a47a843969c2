import * as path from 'path';
import { AssetStaging, CfnResource, FileAssetLocation, FileAssetPackaging, Names, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';

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
 * The stack's deploy-time runtime function: the bundle of `runtime.singleton-lambda.ts` on Node.js 24.
 */
export class RuntimeFunction extends lambda.SingletonFunction {
  constructor(scope: Construct, id: string, props: RuntimeFunctionProps) {
    super(scope, id, {
      description: 'src/internal/runtime/runtime.singleton-lambda.ts',
      ...props,
      uuid: RUNTIME_UUID,
      runtime: new lambda.Runtime('nodejs24.x', lambda.RuntimeFamily.NODEJS),
      handler: 'index.handler',
      code: new RuntimeCode(),
    });
    this.addEnvironment('AWS_NODEJS_CONNECTION_REUSE_ENABLED', '1', { removeInEdge: true });
  }
}
