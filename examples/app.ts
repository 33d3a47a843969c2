#!/usr/bin/env node
/**
 * The example app. `npx cdk synth` at the root of the repository synthesizes it into cdk.out, with
 * no AWS account and no Docker: the reference promotion app (examples/promotion.ts), a Bake stage in
 * a tooling account and Staging and Production stages in two others, all deploying the same AMI and
 * the same image digest. `examples/stack.ts` is the same service in one stack, built and run together.
 */
import { App } from 'aws-cdk-lib';
import { promotionApp } from './promotion';

const app = new App();
promotionApp(app);
app.synth();
