import { CfnParameter, Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Alb, alb, blueGreenService, hookFunction, HOOK_ARN, importedVpc, newStack, onlyResource, service, trafficShift } from './fixtures';
import { EcsDeployment } from '../../../src';
import { describeFindings, validate } from '../../kit';

describe('EcsDeployment', () => {
  describe('rolling', () => {
    test('percentages are passed through', () => {
      const stack = newStack();
      service(stack, { deployment: EcsDeployment.rolling({ minHealthyPercent: 100, maxHealthyPercent: 150 }) });
      Template.fromStack(stack).hasResourceProperties('AWS::ECS::Service', {
        DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 100, MaximumPercent: 150, Strategy: 'ROLLING' }),
      });
    });

    test('a minimum healthy percentage below 100 warns that capacity drops', () => {
      const stack = newStack();
      service(stack, { deployment: EcsDeployment.rolling({ minHealthyPercent: 50 }) });
      Annotations.fromStack(stack).hasWarning('/S/Web', Match.stringLikeRegexp('minHealthyPercent \\(50\\) lets ECS stop old tasks'));
    });

    test('no warning at 100 %', () => {
      const stack = newStack();
      service(stack);
      expect(Annotations.fromStack(stack).findWarning('/S/Web', Match.stringLikeRegexp('minHealthyPercent'))).toEqual([]);
    });

    test('alarms roll the deployment back', () => {
      const stack = newStack();
      const alarm = cloudwatch.Alarm.fromAlarmName(stack, 'Errors', 'web-5xx');
      service(stack, { deployment: EcsDeployment.rolling({ alarms: [alarm] }) });
      Template.fromStack(stack).hasResourceProperties('AWS::ECS::Service', {
        DeploymentConfiguration: Match.objectLike({
          Alarms: { AlarmNames: ['web-5xx'], Enable: true, Rollback: true },
          DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        }),
      });
    });

    test('percentages from parameters skip validation', () => {
      const stack = newStack();
      const min = new CfnParameter(stack, 'Min', { type: 'Number' }).valueAsNumber;
      const max = new CfnParameter(stack, 'Max', { type: 'Number' }).valueAsNumber;
      const port = new CfnParameter(stack, 'Port', { type: 'Number' }).valueAsNumber;
      const lb = alb(stack, importedVpc(stack));
      const deployment = EcsDeployment.rolling({ minHealthyPercent: min, maxHealthyPercent: max });
      expect(() => service(stack, { containerPort: port, targetGroup: lb.blue, deployment })).not.toThrow();
      Template.fromStack(stack).hasResourceProperties('AWS::ECS::Service', {
        DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: { Ref: 'Min' }, MaximumPercent: { Ref: 'Max' } }),
      });
      expect(Annotations.fromStack(stack).findWarning('/S/Web', Match.stringLikeRegexp('minHealthyPercent'))).toEqual([]);
    });

    test('minimum healthy above (or at) maximum fails in the factory, which it names', () => {
      expect(() => EcsDeployment.rolling({ minHealthyPercent: 100, maxHealthyPercent: 100 })).toThrow(
        /^EcsDeployment\.rolling\(\): minHealthyPercent \(100\) should be lower than maxHealthyPercent \(100\)/,
      );
      expect(() => EcsDeployment.rolling({ minHealthyPercent: 90, maxHealthyPercent: 80 })).toThrow(/maxHealthyPercent \(80\) should be a whole number 100 or more/);
      expect(() => EcsDeployment.rolling({ minHealthyPercent: 150 })).toThrow(/minHealthyPercent \(150\) should be a whole number from 0 to 100/);
      expect(() => EcsDeployment.rolling({ minHealthyPercent: -5 })).toThrow(/minHealthyPercent \(-5\)/);
    });
  });

  describe('blue/green', () => {
    test('native ECS strategy, alternate target group, production and test rules, bake time', () => {
      // GIVEN / WHEN
      const { stack, web } = blueGreenService((lb) => EcsDeployment.blueGreen({
        ...trafficShift(lb),
        testListenerRule: lb.testRule,
        bakeTime: Duration.minutes(15),
      }));
      // THEN
      Template.fromStack(stack).hasResourceProperties('AWS::ECS::Service', {
        DeploymentController: { Type: 'ECS' },
        DeploymentConfiguration: Match.objectLike({
          Strategy: 'BLUE_GREEN',
          BakeTimeInMinutes: 15,
          DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        }),
        LoadBalancers: [{
          ContainerName: 'app',
          ContainerPort: 8080,
          TargetGroupArn: { Ref: Match.stringLikeRegexp('^Blue') },
          AdvancedConfiguration: {
            AlternateTargetGroupArn: { Ref: Match.stringLikeRegexp('^Green') },
            ProductionListenerRule: { Ref: Match.stringLikeRegexp('^ProductionRule') },
            TestListenerRule: { Ref: Match.stringLikeRegexp('^TestRule') },
            RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WebDeploymentRole'), 'Arn'] },
          },
        }],
      });
      expect(web.deployment.strategy).toBe(ecs.DeploymentStrategy.BLUE_GREEN);
    });

    test('the infrastructure role changes only these target groups and rules', () => {
      const { stack } = blueGreenService((lb) => EcsDeployment.blueGreen(trafficShift(lb)));
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ecs.amazonaws.com' } })] },
      });
      const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^WebDeploymentRole') }] } });
      const statements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
      expect(statements).toEqual([
        {
          Effect: 'Allow',
          Action: [
            'elasticloadbalancing:DescribeListeners',
            'elasticloadbalancing:DescribeRules',
            'elasticloadbalancing:DescribeTargetGroups',
            'elasticloadbalancing:DescribeTargetHealth',
          ],
          Resource: '*',
        },
        {
          Effect: 'Allow',
          Action: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
          Resource: [{ Ref: expect.stringMatching(/^Blue/) }, { Ref: expect.stringMatching(/^Green/) }],
        },
        { Effect: 'Allow', Action: 'elasticloadbalancing:ModifyRule', Resource: { Ref: expect.stringMatching(/^ProductionRule/) } },
      ]);
      // no AWS managed policy: the role is scoped to this service's resources
      template.hasResourceProperties('AWS::IAM::Role', Match.objectLike({
        AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ecs.amazonaws.com' } })] },
        ManagedPolicyArns: Match.absent(),
      }));
    });

    test('a given infrastructure role is used and no role is created', () => {
      const { stack } = blueGreenService((lb, s) => EcsDeployment.blueGreen({
        ...trafficShift(lb),
        infrastructureRole: iam.Role.fromRoleArn(s, 'Infra', 'arn:aws:iam::111111111111:role/ecs-infrastructure'),
      }));
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::ECS::Service', {
        LoadBalancers: [Match.objectLike({ AdvancedConfiguration: Match.objectLike({ RoleArn: 'arn:aws:iam::111111111111:role/ecs-infrastructure' }) })],
      });
      expect(Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.startsWith('WebDeploymentRole'))).toEqual([]);
    });

    test('a lifecycle hook runs after test traffic shifts when there is a test rule', () => {
      const { stack } = blueGreenService((lb, s) => EcsDeployment.blueGreen({
        ...trafficShift(lb),
        testListenerRule: lb.testRule,
        lifecycleHook: hookFunction(s),
      }));
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::ECS::Service', {
        DeploymentConfiguration: Match.objectLike({
          LifecycleHooks: [{
            HookTargetArn: HOOK_ARN,
            LifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'],
            RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WebLifecycleHookRole'), 'Arn'] },
          }],
        }),
      });
      // ECS may invoke exactly this function, not its versions or aliases
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^WebLifecycleHookRole') }],
        PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: HOOK_ARN }] },
      });
    });

    test('without a test rule the hook runs after scale-up; stages can be chosen', () => {
      const byDefault = blueGreenService((lb, s) => EcsDeployment.blueGreen({ ...trafficShift(lb), lifecycleHook: hookFunction(s) }));
      Template.fromStack(byDefault.stack).hasResourceProperties('AWS::ECS::Service', {
        DeploymentConfiguration: Match.objectLike({ LifecycleHooks: [Match.objectLike({ LifecycleStages: ['POST_SCALE_UP'] })] }),
      });

      const chosen = blueGreenService((lb, s) => EcsDeployment.blueGreen({
        ...trafficShift(lb),
        lifecycleHook: hookFunction(s),
        lifecycleHookStages: [ecs.DeploymentLifecycleStage.PRE_SCALE_UP, ecs.DeploymentLifecycleStage.POST_PRODUCTION_TRAFFIC_SHIFT],
      }));
      Template.fromStack(chosen.stack).hasResourceProperties('AWS::ECS::Service', {
        DeploymentConfiguration: Match.objectLike({ LifecycleHooks: [Match.objectLike({ LifecycleStages: ['PRE_SCALE_UP', 'POST_PRODUCTION_TRAFFIC_SHIFT'] })] }),
      });
    });

    test('canary and linear use their native strategies and steps', () => {
      const canary = blueGreenService((lb) => EcsDeployment.canary({ ...trafficShift(lb), stepPercent: 10 }));
      Template.fromStack(canary.stack).hasResourceProperties('AWS::ECS::Service', {
        DeploymentConfiguration: Match.objectLike({
          Strategy: 'CANARY',
          CanaryConfiguration: { CanaryPercent: 10, CanaryBakeTimeInMinutes: 10 },
          BakeTimeInMinutes: 10,
        }),
      });

      const linear = blueGreenService((lb) => EcsDeployment.linear({ ...trafficShift(lb), stepBakeTime: Duration.minutes(3) }));
      Template.fromStack(linear.stack).hasResourceProperties('AWS::ECS::Service', {
        DeploymentConfiguration: Match.objectLike({
          Strategy: 'LINEAR',
          LinearConfiguration: { StepPercent: 10, StepBakeTimeInMinutes: 3 },
        }),
      });
    });

    // ECS documents the deployment circuit breaker for rolling and blue/green deployments only:
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-failure-detection.html
    test.each([
      ['canary', (lb: Alb) => EcsDeployment.canary(trafficShift(lb))],
      ['linear', (lb: Alb) => EcsDeployment.linear(trafficShift(lb))],
    ])('%s is sent without the circuit breaker, which ECS documents only for rolling and blue/green', (_name, make) => {
      // GIVEN / WHEN
      const { stack } = blueGreenService(make);
      // THEN
      const svc = onlyResource(Template.fromStack(stack), 'AWS::ECS::Service');
      expect(svc.Properties.DeploymentConfiguration.DeploymentCircuitBreaker).toBeUndefined();
      // aws-cdk-lib's advice to turn the circuit breaker on is answered, with the reason
      expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('circuitBreaker'))).toEqual([]);
      // and with nothing that could roll it back, a warning says what protects a canary
      Annotations.fromStack(stack).hasWarning('/S/Web', Match.stringLikeRegexp('has neither alarms nor a lifecycleHook'));
    });

    test('a canary with alarms, or with a lifecycle hook, is watched: no warning', () => {
      const withAlarm = blueGreenService((lb, s) => EcsDeployment.canary({ ...trafficShift(lb), alarms: [cloudwatch.Alarm.fromAlarmName(s, 'E', 'web-5xx')] }));
      const withHook = blueGreenService((lb, s) => EcsDeployment.linear({ ...trafficShift(lb), lifecycleHook: hookFunction(s) }));
      for (const { stack } of [withAlarm, withHook]) {
        expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('neither alarms nor a lifecycleHook'))).toEqual([]);
      }
      Template.fromStack(withAlarm.stack).hasResourceProperties('AWS::ECS::Service', {
        DeploymentConfiguration: Match.objectLike({ Strategy: 'CANARY', Alarms: { AlarmNames: ['web-5xx'], Enable: true, Rollback: true } }),
      });
    });

    // ECS rewrites the production rule's weights at every deployment; a stack update that changes
    // the rule restores the template's weights: https://github.com/aws/aws-cdk/issues/36649
    test.each([
      ['blueGreen', (lb: Alb) => EcsDeployment.blueGreen({ ...trafficShift(lb), testListenerRule: lb.testRule })],
      ['canary', (lb: Alb) => EcsDeployment.canary({ ...trafficShift(lb), testListenerRule: lb.testRule })],
    ])('%s warns at synth that ECS owns the listener rules\' weights once deployed', (_name, make) => {
      const { stack } = blueGreenService(make);
      const warnings = Annotations.fromStack(stack).findWarning('/S/Web', Match.stringLikeRegexp('ECS owns the forward weights of S/ProductionRule and S/TestRule'));
      expect(warnings).toHaveLength(1);
      expect(JSON.stringify(warnings[0].entry.data)).toMatch(/restores the weights in the template.*aws-cdk#36649.*Leave these rules unchanged/);
      expect(JSON.stringify(warnings[0].entry.data)).toContain('cdk-immutable-deploys:listener-rule-weights-owned-by-ecs');
    });

    test('a rolling deployment, which ECS shifts no weights for, does not warn about listener rules', () => {
      const { stack } = blueGreenService(() => EcsDeployment.rolling());
      expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('owns the forward weights'))).toEqual([]);
    });

    test('valid and clean: with a test listener and a lifecycle hook', () => {
      const { stack } = blueGreenService((lb, s) => EcsDeployment.blueGreen({
        ...trafficShift(lb),
        testListenerRule: lb.testRule,
        lifecycleHook: hookFunction(s),
      }));
      const { findings } = validate(stack);
      expect(describeFindings(findings)).toEqual([]);
    });
  });

  describe('the factory checks its own options', () => {
    test('without an alternate target group or production rule (from a language without required-prop checks)', () => {
      const stack = newStack();
      const lb = alb(stack, importedVpc(stack));
      expect(() => EcsDeployment.blueGreen({ productionListenerRule: lb.productionRule } as any)).toThrow(/^EcsDeployment\.blueGreen\(\): alternateTargetGroup is missing/);
      expect(() => EcsDeployment.blueGreen({ alternateTargetGroup: lb.green } as any)).toThrow(/productionListenerRule is missing/);
      expect(() => EcsDeployment.blueGreen(undefined as any)).toThrow(/alternateTargetGroup is missing/);
    });

    test('the production rule as test rule, a bad bake time, or hook stages without a hook', () => {
      const stack = newStack();
      const base = trafficShift(alb(stack, importedVpc(stack)));
      expect(() => EcsDeployment.blueGreen({ ...base, testListenerRule: base.productionListenerRule })).toThrow(/testListenerRule is the productionListenerRule/);
      expect(() => EcsDeployment.blueGreen({ ...base, bakeTime: Duration.seconds(90) })).toThrow(/bakeTime \(1 minute 30 seconds\) should be whole minutes from 0 to 1440/);
      expect(() => EcsDeployment.blueGreen({ ...base, bakeTime: Duration.hours(25) })).toThrow(/bakeTime \(1 day 1 hour\) should be whole minutes/);
      expect(() => EcsDeployment.blueGreen({ ...base, lifecycleHookStages: [ecs.DeploymentLifecycleStage.PRE_SCALE_UP] })).toThrow(
        /lifecycleHookStages \(PRE_SCALE_UP\) is set without lifecycleHook/,
      );
    });
  });

  describe('the service checks what needs the service', () => {
    test('blue/green without the production target group it needs', () => {
      const stack = newStack();
      const deployment = EcsDeployment.blueGreen(trafficShift(alb(stack, importedVpc(stack))));
      expect(() => service(stack, { containerPort: 8080, deployment })).toThrow(
        /^S\/Web \[ImmutableFargateService\]: targetGroup is missing: EcsDeployment\.blueGreen\(\) needs targetGroup, the production target group that productionListenerRule forwards to\. Pass targetGroup and containerPort/,
      );
    });

    test('blue/green with a listener instead of a target group', () => {
      const stack = newStack();
      const lb = alb(stack, importedVpc(stack));
      const deployment = EcsDeployment.canary(trafficShift(lb));
      expect(() => service(stack, { containerPort: 8080, listener: lb.listener, deployment })).toThrow(
        /EcsDeployment\.canary\(\) needs targetGroup.*listener cannot be used/,
      );
    });

    test('blue/green whose alternate target group is the production one', () => {
      const sameGroups = () => blueGreenService((lb) => EcsDeployment.linear({ ...trafficShift(lb), alternateTargetGroup: lb.blue }));
      expect(sameGroups).toThrow(
        /EcsDeployment\.linear\(\) alternateTargetGroup is the service's targetGroup/,
      );
    });
  });
});
