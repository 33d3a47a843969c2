import { CfnParameter } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { checkedStack, findingsOf, summary } from './fixtures';

function service(props: Partial<ecs.CfnServiceProps>) {
  const stack = checkedStack();
  new ecs.CfnService(stack, 'Service', { cluster: 'web', taskDefinition: 'arn:aws:ecs:us-east-1:111111111111:task-definition/web:1', ...props });
  return stack;
}

describe('ecs-service-without-rollback', () => {
  test.each([
    ['a circuit breaker that rolls back', { deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } } }],
    ['alarms that roll back', { deploymentConfiguration: { alarms: { alarmNames: ['5xx'], enable: true, rollback: true } } }],
    ['native blue/green', { deploymentConfiguration: { strategy: 'BLUE_GREEN' } }],
    ['the CodeDeploy controller', { deploymentController: { type: 'CODE_DEPLOY' } }],
  ])('compliant: %s', (_, props) => {
    expect(summary(service(props as any))).toEqual([]);
  });

  test('non-compliant: a rolling service with no rollback, or a circuit breaker that only stops', () => {
    expect(summary(service({}))).toEqual(['ecs-service-without-rollback error /Stack/Service']);
    const findings = findingsOf(service({ deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: false } } }));
    expect(findings.map((f) => f.rule)).toEqual(['ecs-service-without-rollback']);
    expect(findings[0].message).toMatch(/Turn on the deployment circuit breaker with rollback/);
  });

  test('unreadable: rollback from a parameter, or an external controller, gives a warning', () => {
    const stack = checkedStack();
    const rollback = new CfnParameter(stack, 'Rollback', { type: 'String' }).valueAsString;
    new ecs.CfnService(stack, 'Service', { deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: rollback as any } } });
    expect(summary(stack)).toEqual(['ecs-service-without-rollback warning /Stack/Service']);
    expect(summary(service({ deploymentController: { type: 'EXTERNAL' } }))).toEqual(['ecs-service-without-rollback warning /Stack/Service']);
  });
});
