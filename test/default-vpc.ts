/**
 * What `ec2.Vpc.fromLookup(..., { isDefault: true })` answers for a real default VPC: public subnets
 * only, one per availability zone, no NAT gateway. Tests of the README and of the examples answer the
 * lookup with it, so that nothing passes against aws-cdk-lib's dummy VPC (which has private subnets).
 */
export function defaultVpcContext(azs: string[]) {
  return {
    vpcId: 'vpc-0a1b2c3d4e5f60718',
    vpcCidrBlock: '172.31.0.0/16',
    availabilityZones: [],
    subnetGroups: [{
      name: 'Public',
      type: 'Public',
      subnets: azs.map((az, i) => ({ subnetId: `subnet-0a1b2c3d4e5f6071${i}`, cidr: `172.31.${i * 16}.0/20`, availabilityZone: az, routeTableId: 'rtb-0a1b2c3d4e5f60718' })),
    }],
  };
}

/** The context key of a default-VPC lookup, as aws-cdk-lib writes it. */
export function defaultVpcKey(account: string, region: string): string {
  return `vpc-provider:account=${account}:filter.isDefault=true:region=${region}:returnAsymmetricSubnets=true`;
}
