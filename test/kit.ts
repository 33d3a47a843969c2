/**
 * The test kit: synthesizes an app the way our users' pipelines should, with aws-cdk-lib's
 * CloudFormation schema validator in strict mode and cdk-nag's AwsSolutions pack, and returns
 * the template of one stack and every finding that no acknowledgement covers.
 *
 *   const app = newTestApp();
 *   const stack = new Stack(app, 'Stack');
 *   ...
 *   expect(validate(stack).findings).toEqual([]); // valid and clean
 */
import * as fs from 'fs';
import * as path from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, AppProps, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';

const STRICT = '@aws-cdk/core:strictCfnValidateErrors';
const FAIL_SYNTH = '@aws-cdk/core:failSynthOnValidationErrors';

/** One unacknowledged finding of a validation plugin. */
export interface Finding {
  /** `AwsSolutions` or `CloudFormation Validate`. */
  readonly plugin: string;
  /** e.g. `AwsSolutions-S1`, or a cfn-lint rule such as `F3002`. */
  readonly rule: string;
  readonly severity: string;
  readonly description: string;
  /** The construct path of the offending resource. */
  readonly path: string;
}

export interface Validated {
  readonly template: Template;
  readonly findings: Finding[];
}

/**
 * An App whose synthesis runs the CloudFormation schema validator in strict mode (warnings count)
 * and cdk-nag's AwsSolutions pack. Findings go to the report that `validate()` reads, rather than
 * failing synthesis, so that a test can say which ones it expects.
 */
export function newTestApp(props: AppProps = {}): App {
  const app = new App({
    ...props,
    context: { ...props.context, [STRICT]: true, [FAIL_SYNTH]: false },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

/**
 * `newTestApp()`, plus the checks that enterprise users run on top of AwsSolutions: cdk-nag's
 * NIST 800-53 rev. 5 pack and the AWS Control Tower proactive controls of
 * `@cdklabs/cdk-validator-cfnguard` (CloudFormation Guard rules run on the synthesized templates).
 * Findings go to the same report, with the plugin's name (`NIST.800.53.R5`, `cdk-validator-cfnguard`).
 */
export function newSecurityBaselineApp(props: AppProps = {}): App {
  const app = newTestApp(props);
  Validations.of(app).addPlugins(new NIST80053R5Checks(app), new CfnGuardValidator());
  return app;
}

/**
 * Synthesizes the stack's app once and returns the stack's template and its unacknowledged findings.
 */
export function validate(stack: Stack): Validated {
  const app = stack.node.root;
  if (!App.isApp(app) || app.node.tryGetContext(STRICT) !== true) {
    throw new Error(`validate(): stack '${stack.node.path}' must be created in newTestApp(), which turns the validators on.`);
  }
  const assembly = app.synth();
  const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
  const findings: Finding[] = [];
  for (const pluginReport of report.pluginReports ?? []) {
    for (const violation of pluginReport.violations ?? []) {
      for (const construct of violation.violatingConstructs ?? []) {
        const constructPath: string = construct.constructPath ?? '';
        if (constructPath !== stack.node.path && !constructPath.startsWith(`${stack.node.path}/`)) continue;
        findings.push({
          plugin: pluginReport.pluginName,
          rule: violation.ruleName,
          severity: violation.severity,
          description: violation.description,
          path: constructPath,
        });
      }
    }
  }
  const template = Template.fromJSON(assembly.getStackArtifact(stack.artifactId).template);
  return { template, findings };
}

/** A one-line summary of findings, for readable test failures. */
export function describeFindings(findings: Finding[]): string[] {
  return findings.map((f) => `${f.rule} at ${f.path}: ${f.description}`);
}
