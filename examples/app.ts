#!/usr/bin/env node
/**
 * The example app. `npx cdk synth` at the root of the repository synthesizes it into cdk.out,
 * with no AWS account and no Docker; `cdk deploy` deploys it to the account and region of
 * your AWS credentials.
 */
import { App } from 'aws-cdk-lib';
import { ExampleStack } from './stack';

const app = new App();
new ExampleStack(app, 'ImmutableDeploysExample');
app.synth();
