import { fullDiff, ResourceImpact } from '@aws-cdk/cloudformation-diff';
import { CfnParameter, Duration, SecretValue } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { alb, artifact, DIGEST_A, DIGEST_B, FIXTURE_TAG, importedVpc, newStack, onlyResource, service } from './fixtures';
import { ContainerPlatform, EcsDeployment, ImmutableFargateService, ImmutableFargateServiceProps } from '../../../src';
import { describeFindings, validate } from '../../kit';
import { expectSynthError } from '../../synth-errors';

describe('ImmutableFargateService', () => {
  describe('defaults', () => {
    test('a worker: rolling 100/200 with circuit-breaker rollback, pinned by digest, no load balancer', () => {
      // GIVEN
      const stack = newStack();
      // WHEN
      service(stack);
      // THEN
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::ECS::Service', {
        DesiredCount: 2,
        LaunchType: 'FARGATE',
        DeploymentController: { Type: 'ECS' },
        DeploymentConfiguration: Match.objectLike({
          MinimumHealthyPercent: 100,
          MaximumPercent: 200,
          DeploymentCircuitBreaker: { Enable: true, Rollback: true },
          Strategy: 'ROLLING',
        }),
        NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
      });
      const svc = onlyResource(template, 'AWS::ECS::Service');
      expect(svc.Properties.LoadBalancers).toBeUndefined();
      expect(svc.Properties.HealthCheckGracePeriodSeconds).toBeUndefined();

      const taskDefinition = onlyResource(template, 'AWS::ECS::TaskDefinition');
      expect(taskDefinition.Properties).toMatchObject({
        Cpu: '256',
        Memory: '512',
        RequiresCompatibilities: ['FARGATE'],
        RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
      });
      const container = taskDefinition.Properties.ContainerDefinitions[0];
      expect(JSON.stringify(stack.resolve(container.Image))).toContain(`/web@${DIGEST_A}`);
      expect(JSON.stringify(container.Image)).not.toContain(':latest');
      expect(container.PortMappings).toBeUndefined();
      expect(container.ReadonlyRootFilesystem).toBe(true);
      expect(container.MountPoints).toEqual([{ ContainerPath: '/tmp', ReadOnly: false, SourceVolume: 'writable-tmp' }]);
      expect(taskDefinition.Properties.Volumes).toEqual([{ Name: 'writable-tmp' }]);
      expect(container.LogConfiguration.LogDriver).toBe('awslogs');

      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
      template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
      template.hasResourceProperties('AWS::ECS::Cluster', {
        ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
      });
    });

    test('exposes service, taskDefinition, container, cluster and connections', () => {
      const stack = newStack();
      const web = service(stack);
      expect(web.service).toBeInstanceOf(ecs.FargateService);
      expect(web.taskDefinition).toBeInstanceOf(ecs.FargateTaskDefinition);
      expect(web.container.containerName).toBe('app');
      expect(web.cluster).toBeInstanceOf(ecs.Cluster);
      expect(web.connections).toBe(web.service.connections);
      expect(web.targetGroup).toBeUndefined();
      expect(web.deployment.strategy).toBe(ecs.DeploymentStrategy.ROLLING);
    });

    test('valid and clean: a worker in a new cluster', () => {
      const stack = newStack();
      service(stack, { environment: { LOG_LEVEL: 'info' } });
      const { findings } = validate(stack);
      expect(describeFindings(findings)).toEqual([]);
    });
  });

  describe('props', () => {
    test('cpu, memory, count, port, environment, secrets, health check and log retention reach the task', () => {
      const stack = newStack();
      const secret = new secretsmanager.Secret(stack, 'DbPassword');
      const tg = alb(stack, importedVpc(stack)).blue;
      service(stack, {
        cpu: 1024,
        memoryLimitMiB: 3072,
        desiredCount: 3,
        containerPort: 8080,
        targetGroup: tg,
        environment: { LOG_LEVEL: 'debug' },
        secrets: { DB_PASSWORD: ecs.Secret.fromSecretsManager(secret) },
        healthCheck: { command: ['CMD-SHELL', 'wget -q -O- http://localhost:8080/health || exit 1'] },
        logRetention: logs.RetentionDays.ONE_WEEK,
      });
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        Cpu: '1024',
        Memory: '3072',
        ContainerDefinitions: [Match.objectLike({
          Environment: [{ Name: 'LOG_LEVEL', Value: 'debug' }],
          Secrets: [{ Name: 'DB_PASSWORD', ValueFrom: { Ref: Match.stringLikeRegexp('DbPassword') } }],
          HealthCheck: Match.objectLike({ Command: ['CMD-SHELL', 'wget -q -O- http://localhost:8080/health || exit 1'] }),
          PortMappings: [{ ContainerPort: 8080, Protocol: 'tcp' }],
        })],
      });
      template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 3 });
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    });

    test('an existing cluster is used as is', () => {
      const stack = newStack();
      const cluster = new ecs.Cluster(stack, 'Shared', { vpc: importedVpc(stack), containerInsightsV2: ecs.ContainerInsights.ENABLED });
      service(stack, { cluster, artifact: artifact(stack) });
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::ECS::Cluster', 1);
      template.hasResourceProperties('AWS::ECS::Service', { Cluster: { Ref: Match.stringLikeRegexp('^Shared') } });
    });

    test('an existing log group is used, and no new one is made', () => {
      const stack = newStack();
      const logGroup = logs.LogGroup.fromLogGroupName(stack, 'Existing', 'apps/web');
      service(stack, { logGroup });
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::Logs::LogGroup', 0);
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: [Match.objectLike({ LogConfiguration: Match.objectLike({ Options: Match.objectLike({ 'awslogs-group': 'apps/web' }) }) })],
      });
    });

    test('an arm64 artifact gives an ARM64 task', () => {
      const stack = newStack();
      service(stack, { artifact: artifact(stack, DIGEST_A, ContainerPlatform.LINUX_ARM64) });
      Template.fromStack(stack).hasResourceProperties('AWS::ECS::TaskDefinition', {
        RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      });
    });

    test('a platform that matches the artifact is accepted', () => {
      const stack = newStack();
      service(stack, { artifact: artifact(stack, DIGEST_A, ContainerPlatform.LINUX_ARM64), platform: ContainerPlatform.LINUX_ARM64 });
      Template.fromStack(stack).hasResourceProperties('AWS::ECS::TaskDefinition', { RuntimePlatform: Match.objectLike({ CpuArchitecture: 'ARM64' }) });
    });

    test('a writable root filesystem has no scratch volumes', () => {
      const stack = newStack();
      service(stack, { readonlyRootFilesystem: false });
      const taskDefinition = onlyResource(Template.fromStack(stack), 'AWS::ECS::TaskDefinition');
      expect(taskDefinition.Properties.ContainerDefinitions[0].ReadonlyRootFilesystem).toBe(false);
      expect(taskDefinition.Properties.ContainerDefinitions[0].MountPoints).toBeUndefined();
      expect(taskDefinition.Properties.Volumes).toBeUndefined();
    });

    test('writableDirectories become task-scoped volumes', () => {
      const stack = newStack();
      service(stack, { writableDirectories: ['/tmp', '/var/cache/nginx'] });
      const taskDefinition = onlyResource(Template.fromStack(stack), 'AWS::ECS::TaskDefinition');
      expect(taskDefinition.Properties.Volumes).toEqual([{ Name: 'writable-tmp' }, { Name: 'writable-var-cache-nginx' }]);
      expect(taskDefinition.Properties.ContainerDefinitions[0].MountPoints).toEqual([
        { ContainerPath: '/tmp', ReadOnly: false, SourceVolume: 'writable-tmp' },
        { ContainerPath: '/var/cache/nginx', ReadOnly: false, SourceVolume: 'writable-var-cache-nginx' },
      ]);
    });
  });

  describe('load balancers', () => {
    test('a listener gets a new IP target group routing to the container port, with a grace period', () => {
      // GIVEN
      const stack = newStack();
      const { listener } = alb(stack, importedVpc(stack));
      // WHEN
      const web = service(stack, {
        containerPort: 8080,
        listener,
        listenerPriority: 10,
        listenerConditions: [elbv2.ListenerCondition.pathPatterns(['/api/*'])],
        loadBalancerHealthCheck: { path: '/health' },
      });
      // THEN
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        TargetType: 'ip',
        Port: 8080,
        Protocol: 'HTTP',
        HealthCheckPath: '/health',
      });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Priority: 10,
        Conditions: [Match.objectLike({ Field: 'path-pattern' })],
        Actions: [Match.objectLike({ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('^WebTargetGroup') } })],
      });
      template.hasResourceProperties('AWS::ECS::Service', {
        HealthCheckGracePeriodSeconds: 60,
        LoadBalancers: [{ ContainerName: 'app', ContainerPort: 8080, TargetGroupArn: { Ref: Match.stringLikeRegexp('^WebTargetGroup') } }],
      });
      // the load balancer may reach the tasks on the container port, and nothing else may
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        FromPort: 8080,
        ToPort: 8080,
        GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WebServiceSecurityGroup'), 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlbSg'), 'GroupId'] },
      });
      expect(web.targetGroup).toBeDefined();
    });

    test('an existing target group is registered with, with the grace period of the deployment', () => {
      const stack = newStack();
      const { blue } = alb(stack, importedVpc(stack));
      const web = service(stack, {
        containerPort: 8080,
        targetGroup: blue,
        deployment: EcsDeployment.rolling({ healthCheckGracePeriod: Duration.seconds(120) }),
      });
      Template.fromStack(stack).hasResourceProperties('AWS::ECS::Service', {
        HealthCheckGracePeriodSeconds: 120,
        LoadBalancers: [{ ContainerName: 'app', ContainerPort: 8080, TargetGroupArn: { Ref: Match.stringLikeRegexp('^Blue') } }],
      });
      expect(web.targetGroup).toBe(blue);
    });

    test('valid and clean: behind an ALB listener', () => {
      const stack = newStack();
      const { listener } = alb(stack, importedVpc(stack));
      service(stack, { containerPort: 8080, listener, listenerPriority: 10, listenerConditions: [elbv2.ListenerCondition.pathPatterns(['/api/*'])] });
      const { findings } = validate(stack);
      expect(describeFindings(findings)).toEqual([]);
    });
  });

  describe('pinned to the artifact digest', () => {
    function synthWith(digest: string): any {
      const stack = newStack();
      const { blue } = alb(stack, importedVpc(stack));
      service(stack, { artifact: artifact(stack, digest), containerPort: 8080, targetGroup: blue });
      return Template.fromStack(stack).toJSON();
    }

    test('the same digest twice changes nothing at all', () => {
      const diff = fullDiff(synthWith(DIGEST_A), synthWith(DIGEST_A));
      expect(diff.isEmpty).toBe(true);
      expect(diff.differenceCount).toBe(0);
    });

    test('a new digest is a new task-definition revision and a deployment of it, and nothing else', () => {
      const before = synthWith(DIGEST_A);
      const after = synthWith(DIGEST_B);
      const diff = fullDiff(before, after);

      const changed = Object.keys(diff.resources.changes).sort();
      const taskDefinitionId = Object.keys(before.Resources).find((id) => before.Resources[id].Type === 'AWS::ECS::TaskDefinition')!;
      const serviceId = Object.keys(before.Resources).find((id) => before.Resources[id].Type === 'AWS::ECS::Service')!;
      expect(changed).toEqual([taskDefinitionId]);

      // The task definition is replaced: CloudFormation registers a new revision...
      const taskDefinitionChange = diff.resources.get(taskDefinitionId);
      expect(taskDefinitionChange.changeImpact).toBe(ResourceImpact.WILL_REPLACE);
      expect(JSON.stringify(after.Resources[taskDefinitionId].Properties.ContainerDefinitions[0].Image)).toContain(DIGEST_B);
      // ...and the service, which references it by Ref, is updated to it: an ECS deployment.
      expect(after.Resources[serviceId].Properties.TaskDefinition).toEqual({ Ref: taskDefinitionId });
      expect(diff.resources.get(serviceId)?.isDifferent ?? false).toBe(false);
    });
  });

  describe('security', () => {
    test('the task role has no permissions; the execution role pulls this repository, writes this log group and reads these secrets', () => {
      const stack = newStack();
      const secret = new secretsmanager.Secret(stack, 'ApiKey');
      const web = service(stack, { secrets: { API_KEY: ecs.Secret.fromSecretsManager(secret) } });
      const template = Template.fromStack(stack);

      const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
      const taskRoleId = stack.resolve((web.taskRole.node.defaultChild as any).logicalId);
      expect(policies.filter((p) => JSON.stringify(p.Properties.Roles).includes(taskRoleId))).toEqual([]);

      const executionPolicies = policies.filter((p) => JSON.stringify(p.Properties.Roles).includes('ExecutionRole'));
      expect(executionPolicies).toHaveLength(1);
      const statements = executionPolicies[0].Properties.PolicyDocument.Statement;
      const byAction = Object.fromEntries(statements.map((s: any) => [[s.Action].flat().join(','), s.Resource]));
      expect(Object.keys(byAction).sort()).toEqual([
        'ecr:BatchCheckLayerAvailability,ecr:GetDownloadUrlForLayer,ecr:BatchGetImage',
        'ecr:GetAuthorizationToken',
        'logs:CreateLogStream,logs:PutLogEvents',
        'secretsmanager:GetSecretValue,secretsmanager:DescribeSecret',
      ].sort());
      expect(JSON.stringify(stack.resolve(byAction['ecr:BatchCheckLayerAvailability,ecr:GetDownloadUrlForLayer,ecr:BatchGetImage']))).toContain(':repository/web');
      expect(byAction['logs:CreateLogStream,logs:PutLogEvents']).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^cdkimmutabledeploysServicesLogs/), 'Arn'] });
      expect(byAction['secretsmanager:GetSecretValue,secretsmanager:DescribeSecret']).toEqual({ Ref: expect.stringMatching(/^ApiKey/) });
      // GetAuthorizationToken is the only action on *, as ECR does not scope it to a repository.
      expect(statements.filter((s: any) => s.Resource === '*').map((s: any) => s.Action)).toEqual(['ecr:GetAuthorizationToken']);
    });

    test('services that read no secrets share one execution role and log group per stack; each writes its own streams, and the role\'s policy is the same for one service and three', () => {
      const policyOf = (n: number) => {
        const stack = newStack();
        const cluster = new ecs.Cluster(stack, 'Cluster', { vpc: importedVpc(stack) });
        for (let i = 0; i < n; i++) new ImmutableFargateService(stack, `Web${i}`, { cluster, artifact: artifact(stack, DIGEST_A, undefined, `Artifact${i}`) });
        return { stack, template: Template.fromStack(stack) };
      };
      const one = policyOf(1);
      const three = policyOf(3);

      const executionRoles = (t: Template) => Object.keys(t.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'ecs-tasks.amazonaws.com' } })] }) } }))
        .filter((id) => !/TaskRole/.test(id));
      expect(executionRoles(three.template)).toEqual([expect.stringMatching(/^cdkimmutabledeploysServicesExecutionRole/)]);
      three.template.resourceCountIs('AWS::Logs::LogGroup', 1);
      const executionPolicy = (t: Template) => (Object.values(t.findResources('AWS::IAM::Policy')).find((p: any) => JSON.stringify(p.Properties.Roles).includes('ServicesExecutionRole')) as any).Properties.PolicyDocument;
      // Pull on the imported repository 'web' is on the role (it is not this app's), once: the same statement for every service.
      expect(executionPolicy(three.template)).toEqual(executionPolicy(one.template));
      const prefixes = Object.values(three.template.findResources('AWS::ECS::TaskDefinition'))
        .map((t: any) => t.Properties.ContainerDefinitions[0].LogConfiguration.Options['awslogs-stream-prefix']);
      expect(prefixes.sort()).toEqual(['Web0', 'Web1', 'Web2']);
    });

    test('a service that reads secrets has an execution role of its own, which no other service uses', () => {
      const stack = newStack();
      const cluster = new ecs.Cluster(stack, 'Cluster', { vpc: importedVpc(stack) });
      const secret = new secretsmanager.Secret(stack, 'ApiKey');
      const withSecrets = new ImmutableFargateService(stack, 'Api', { cluster, artifact: artifact(stack), secrets: { API_KEY: ecs.Secret.fromSecretsManager(secret) } });
      const plain = new ImmutableFargateService(stack, 'Web', { cluster, artifact: artifact(stack, DIGEST_B, undefined, 'Other') });

      expect(withSecrets.taskDefinition.executionRole!.node.path).toBe('S/Api/TaskDefinition/ExecutionRole');
      expect(plain.taskDefinition.executionRole!.node.path).toBe('S/cdk-immutable-deploys.Services/ExecutionRole');
    });

    test.each([
      ['an AWS access key id', { AWS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE' }],
      ['a private key', { TLS_KEY: '-----BEGIN RSA PRIVATE KEY-----\nMIIE...' }],
      ['a URL with a password in it', { DATABASE_URL: 'postgres://app:hunter2@db.internal:5432/app' }],
      ['a URL with a password in it', { CACHE_URL: 'redis://:hunter2@cache.internal:6379' }],
      ['a GitHub token', { GH: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789' }],
    ])('a plaintext secret value (%s) in environment fails synthesis and says to use secrets', (kind, environment) => {
      const stack = newStack();
      service(stack, { environment });
      expectSynthError(stack, new RegExp(`environment variable ${Object.keys(environment)[0]} holds what looks like ${kind}.*secrets: \\{`, 's'));
    });

    test('a secret value resolved into environment (SecretValue.unsafeUnwrap) fails synthesis', () => {
      const stack = newStack();
      const password = SecretValue.secretsManager('db-password').unsafeUnwrap();
      service(stack, { environment: { DB: password } });
      expectSynthError(stack,
        /environment variable DB is a secret's value \(a dynamic reference.*secrets: \{ DB: ecs\.Secret\.fromSecretsManager\(secret\) \}/,
      );
    });

    test('a secret-looking name gives a warning that says what to do', () => {
      const stack = newStack();
      service(stack, { environment: { DB_PASSWORD: 'changeme', apiKey: 'x', LOG_LEVEL: 'info', AUTHOR: 'me' } });
      const warnings = Annotations.fromStack(stack).findWarning('/S/Web', Match.stringLikeRegexp('plain text'));
      expect(warnings).toHaveLength(1);
      const text = JSON.stringify(warnings[0].entry.data);
      expect(text).toContain('DB_PASSWORD, apiKey');
      expect(text).not.toContain('LOG_LEVEL');
      expect(text).not.toContain('AUTHOR');
      expect(text).toContain('ecs.Secret.fromSecretsManager');
    });

    test('names that only point at a secret, and URLs without a password, give no warning and no error', () => {
      const stack = newStack();
      service(stack, {
        environment: {
          DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbCdEf',
          TOKEN_URL: 'https://auth.example.com/oauth2/token',
          apiKeyParameterName: '/app/api-key',
          BACKEND_URL: 'http://backend.internal:8080/api',
        },
      });
      expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('plain text'))).toEqual([]);
    });

    test('short secret words are recognised too', () => {
      const stack = newStack();
      service(stack, { environment: { SMTP_PASS: 'x', authKey: 'y' } });
      const warnings = Annotations.fromStack(stack).findWarning('/S/Web', Match.stringLikeRegexp('plain text'));
      expect(JSON.stringify(warnings[0]?.entry.data)).toContain('SMTP_PASS, authKey');
    });

    test('a variable named like an Object method is not mistaken for one in secrets', () => {
      const stack = newStack();
      expect(() => service(stack, { environment: { constructor: 'x', toString: 'y' } })).not.toThrow();
    });

    test('ordinary configuration gives no warning', () => {
      const stack = newStack();
      service(stack, { environment: { LOG_LEVEL: 'info', PORT: '8080', AUTH_MODE: 'oidc', PASSTHROUGH: 'yes' } });
      expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('plain text'))).toEqual([]);
    });

    test('a variable in both environment and secrets is refused', () => {
      const stack = newStack();
      const secret = new secretsmanager.Secret(stack, 'S1');
      service(stack, { environment: { TOKEN: 'x' }, secrets: { TOKEN: ecs.Secret.fromSecretsManager(secret) } });
      expectSynthError(stack,
        /TOKEN is in both environment and secrets/,
      );
    });
  });

  describe('bad input fails at synth with the prop, the value and what to do', () => {
    test.each([
      [{ cpu: 300 }, /cpu \(300\) is not a Fargate size\. Use one of 256, 512, 1024/],
      [{ cpu: 256, memoryLimitMiB: 4096 }, /memoryLimitMiB \(4096\) is not offered by Fargate with cpu 256\. With cpu 256, use 512, 1024, 2048 MiB/],
      // 0.25 vCPU offers 0.5, 1 and 2 GB: 1.5 GB is not a Fargate size
      [{ cpu: 256, memoryLimitMiB: 1536 }, /memoryLimitMiB \(1536\) is not offered by Fargate with cpu 256\. With cpu 256, use 512, 1024, 2048 MiB/],
      [{ cpu: 8192, memoryLimitMiB: 18432 }, /memoryLimitMiB \(18432\) is not offered by Fargate with cpu 8192\. With cpu 8192, use 16384 to 61440 MiB in steps of 4096/],
      [{ cpu: 16384, memoryLimitMiB: 36864 }, /memoryLimitMiB \(36864\) is not offered by Fargate with cpu 16384\. With cpu 16384, use 32768 to 122880 MiB in steps of 8192/],
      [{ cpu: 4096, memoryLimitMiB: 31744 }, /memoryLimitMiB \(31744\) is not offered by Fargate with cpu 4096/],
      [{ cpu: 1024, memoryLimitMiB: 2500 }, /memoryLimitMiB \(2500\) is not offered by Fargate with cpu 1024/],
      [{ desiredCount: -1 }, /desiredCount \(-1\) should be a whole number, 0 or more/],
      [{ desiredCount: 1.5 }, /desiredCount \(1\.5\) should be a whole number/],
      [{ containerPort: 70000 }, /containerPort \(70000\) should be a port number/],
      [{ writableDirectories: ['tmp'] }, /writableDirectories entry 'tmp' should be an absolute directory path/],
      [{ readonlyRootFilesystem: false, writableDirectories: ['/tmp'] }, /writableDirectories applies only with a read-only root filesystem/],
    ])('%j', (props, message) => {
      const stack = newStack();
      service(stack, props as Partial<ImmutableFargateServiceProps>);
      expectSynthError(stack, message);
    });

    test('an arm64 artifact on an x86_64 task', () => {
      const stack = newStack();
      const arm64 = artifact(stack, DIGEST_A, ContainerPlatform.LINUX_ARM64);
      expect(() => service(stack, { artifact: arm64, platform: ContainerPlatform.LINUX_AMD64 })).toThrow(
        /platform \(linux\/amd64\) does not match the artifact, which is built for linux\/arm64.*Remove platform to follow the artifact/,
      );
    });

    test('neither cluster nor vpc, or both', () => {
      const stack = newStack();
      expect(() => new ImmutableFargateService(stack, 'Web', { artifact: artifact(stack) })).toThrow(/pass cluster \(an existing ECS cluster\) or vpc/);
      const vpc = importedVpc(stack);
      const cluster = new ecs.Cluster(stack, 'C', { vpc });
      new ImmutableFargateService(stack, 'Web2', { artifact: artifact(stack, DIGEST_A, undefined, 'A2'), vpc, cluster });
      expectSynthError(stack, /cluster or vpc, not both/);
    });

    test('a load balancer without containerPort, or both targetGroup and listener', () => {
      const stack = newStack();
      const lb = alb(stack, importedVpc(stack));
      expect(() => service(stack, { targetGroup: lb.blue })).toThrow(/containerPort is missing/);
      const other = newStack();
      const lb2 = alb(other, importedVpc(other));
      expect(() => service(other, { targetGroup: lb2.blue, listener: lb2.listener, containerPort: 8080 })).toThrow(/targetGroup or listener, not both/);
    });

    test('listener options without a listener', () => {
      const stack = newStack();
      service(stack, { listenerPriority: 5 });
      expectSynthError(stack, /apply only with listener/);
    });

  });

  test.each([
    [256, [512, 1024, 2048]],
    [512, [1024, 2048, 3072, 4096]],
    [1024, [2048, 5120, 8192]],
    [2048, [4096, 9216, 16384]],
    [4096, [8192, 20480, 30720]],
    [8192, [16384, 20480, 61440]],
    [16384, [32768, 40960, 122880]],
  ])('every size Fargate offers is accepted: cpu %d with %j MiB', (cpu, sizes) => {
    for (const memoryLimitMiB of sizes) {
      const stack = newStack();
      expect(() => service(stack, { cpu, memoryLimitMiB })).not.toThrow();
    }
  });

  describe('unresolved tokens skip validation', () => {
    test('cpu, memory and desired count from parameters', () => {
      const stack = newStack();
      const cpu = new CfnParameter(stack, 'Cpu', { type: 'Number', default: 300 }).valueAsNumber;
      const memory = new CfnParameter(stack, 'Memory', { type: 'Number', default: 99999 }).valueAsNumber;
      const count = new CfnParameter(stack, 'Count', { type: 'Number', default: -1 }).valueAsNumber;
      expect(() => service(stack, { cpu, memoryLimitMiB: memory, desiredCount: count })).not.toThrow();
      Template.fromStack(stack).hasResourceProperties('AWS::ECS::Service', { DesiredCount: { Ref: 'Count' } });
    });

    test('an environment value that is a plain token (not a secret) is accepted', () => {
      const stack = newStack();
      const bucketName = new CfnParameter(stack, 'Bucket').valueAsString;
      expect(() => service(stack, { environment: { BUCKET: bucketName } })).not.toThrow();
    });
  });
});

describe('ImmutableFargateService: pinned by digest, not by tag (issue 17)', () => {
  test('the container image is the repository at the artifact\'s digest; its tag appears nowhere', () => {
    // GIVEN an artifact whose tag differs from its digest (the fixture's)
    const stack = newStack();
    const svc = service(stack);
    expect(svc.taskDefinition).toBeDefined();
    // WHEN
    const taskDefinition = onlyResource(Template.fromStack(stack), 'AWS::ECS::TaskDefinition');
    const image = JSON.stringify(stack.resolve(taskDefinition.Properties.ContainerDefinitions[0].Image));
    // THEN
    expect(image).toMatch(new RegExp(`/web@${DIGEST_A}"`));
    expect(JSON.stringify(taskDefinition)).not.toContain(FIXTURE_TAG);
  });
});
