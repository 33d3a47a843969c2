export * from './ecs-deployment';
export * from './immutable-fargate-service';
