import { Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AmiArtifact } from '../../../src';

describe('AmiArtifact.fromAmiId', () => {
  test('pins the machine image to the AMI id in any region, with Linux user data by default', () => {
    // WHEN
    const artifact = AmiArtifact.fromAmiId('ami-0123456789abcdef0');
    const image = artifact.machineImage.getImage(new Stack());

    // THEN
    expect(image.imageId).toEqual('ami-0123456789abcdef0');
    expect(image.osType).toEqual(ec2.OperatingSystemType.LINUX);
    expect(image.userData.render()).toMatch(/^#!\/bin\/bash/);
    expect(artifact.fingerprint).toEqual('ami-0123456789abcdef0');
    expect(artifact.architecture).toBeUndefined();
  });

  test('Windows AMIs get PowerShell user data, and each launch gets its own user data', () => {
    const artifact = AmiArtifact.fromAmiId('ami-12345678', { osType: ec2.OperatingSystemType.WINDOWS, architecture: ec2.InstanceArchitecture.X86_64 });
    const first = artifact.machineImage.getImage(new Stack());
    const second = artifact.machineImage.getImage(new Stack());
    expect(first.userData.render()).toMatch(/<powershell>/);
    expect(first.userData).not.toBe(second.userData);
    expect(artifact.architecture).toEqual(ec2.InstanceArchitecture.X86_64);
  });

  test('a value that is not an AMI id is an error that shows it', () => {
    expect(() => AmiArtifact.fromAmiId('amazon-linux-latest')).toThrow(/amiId 'amazon-linux-latest' is not an AMI id/);
  });

  test('a token AMI id is not validated', () => {
    expect(() => AmiArtifact.fromAmiId(Token.asString({ Ref: 'Ami' }))).not.toThrow();
  });
});
