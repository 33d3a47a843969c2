import * as ecs from 'aws-cdk-lib/aws-ecs';

/**
 * The platform a container image is built for and runs on.
 */
export class ContainerPlatform {
  /** Linux on x86-64 (`linux/amd64`). */
  public static readonly LINUX_AMD64 = new ContainerPlatform('linux/amd64', ecs.CpuArchitecture.X86_64);

  /** Linux on 64-bit ARM, such as AWS Graviton (`linux/arm64`). */
  public static readonly LINUX_ARM64 = new ContainerPlatform('linux/arm64', ecs.CpuArchitecture.ARM64);

  /**
   * @param platform Docker's name of the platform, e.g. `linux/arm64`
   * @param cpuArchitecture the ECS CPU architecture that runs it
   */
  private constructor(
    /** Docker's name of the platform, e.g. `linux/arm64`. */
    public readonly platform: string,
    /** The ECS CPU architecture that runs images of this platform. */
    public readonly cpuArchitecture: ecs.CpuArchitecture,
  ) {}
}
