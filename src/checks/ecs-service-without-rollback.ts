/**
 * Rule `ecs-service-without-rollback`: an ECS service that can neither roll back on its own nor run
 * blue/green.
 */
import { CfnResource } from 'aws-cdk-lib';
import { isIntrinsic, nonCompliant, properties, Rule, unreadable, Verdict } from './rule';

/** ECS-native strategies that keep the old revision serving until the new one is proven. */
const TRAFFIC_SHIFTING = ['BLUE_GREEN', 'CANARY', 'LINEAR'];

const WHAT_TO_DO = 'Turn on the deployment circuit breaker with rollback (ImmutableFargateService does by default; circuitBreaker: { rollback: true }), '
  + 'alarms with rollback, or a blue/green deployment (EcsDeployment.blueGreen(), or the CODE_DEPLOY controller).';

export const ECS_SERVICE_WITHOUT_ROLLBACK: Rule = {
  id: 'ecs-service-without-rollback',
  protects: 'A failed rollout goes back to the previous task-definition revision on its own: a service with neither a circuit breaker nor alarms that roll back, nor blue/green, keeps retrying a broken revision while the old tasks drain.',
  check(resource: CfnResource): Verdict[] {
    if (resource.cfnResourceType !== 'AWS::ECS::Service') return [];
    const props = properties(resource);
    const controller = props.DeploymentController?.Type;
    if (isIntrinsic(props.DeploymentController) || isIntrinsic(controller)) return [unreadable(`The deployment controller is a token, unreadable at synth time. ${WHAT_TO_DO}`)];
    if (controller === 'CODE_DEPLOY') return [];
    if (controller === 'EXTERNAL') return [unreadable(`The service uses an EXTERNAL deployment controller, whose rollback cannot be read from the template. ${WHAT_TO_DO}`)];
    const configuration = props.DeploymentConfiguration;
    if (isIntrinsic(configuration)) return [unreadable(`The deployment configuration is a token, unreadable at synth time. ${WHAT_TO_DO}`)];
    const strategy = configuration?.Strategy;
    const breaker = configuration?.DeploymentCircuitBreaker;
    const alarms = configuration?.Alarms;
    const values = [strategy, breaker, breaker?.Enable, breaker?.Rollback, alarms, alarms?.Enable, alarms?.Rollback];
    if (TRAFFIC_SHIFTING.includes(strategy)) return [];
    if (isOn(breaker?.Enable) && isOn(breaker?.Rollback)) return [];
    if (isOn(alarms?.Enable) && isOn(alarms?.Rollback)) return [];
    if (values.some(isIntrinsic)) return [unreadable(`Part of the deployment configuration is a token, unreadable at synth time. ${WHAT_TO_DO}`)];
    return [nonCompliant(`The service rolls out with neither a circuit breaker nor alarms that roll back, and not blue/green: a broken revision is retried instead of rolled back. ${WHAT_TO_DO}`)];
  },
};

function isOn(value: unknown): boolean {
  return value === true || value === 'true';
}
