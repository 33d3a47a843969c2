/**
 * What the library reads of a Dockerfile at synth time, besides fingerprinting it: the ECR registries
 * its base images come from (the build logs in to each), and the user and volumes of its final stage
 * (a read-only root filesystem must leave a non-root user a place to write). No AWS SDK here.
 *
 * Internal: not exported from the package.
 */

/** An ECR registry host: `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`. */
const ECR_REGISTRY = /\b(\d{12}\.dkr\.ecr(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?)\//g;

/**
 * The ECR registries a build pulls base images from: every registry named in the Dockerfile or in a
 * build argument (`FROM ${BASE}` with `BASE=<registry>/...`). Logging in to the one it pushes to again is harmless.
 */
export function pullRegistries(dockerfile: string, buildArgs: { [name: string]: string }): string[] {
  const found = new Set<string>();
  for (const text of [dockerfile, ...Object.values(buildArgs)]) {
    for (const match of text.matchAll(ECR_REGISTRY)) found.add(match[1]);
  }
  return [...found].sort();
}

/** The user and volumes of an image. */
export interface ImageRuntime {
  /** The final `USER` (name or uid, optionally `:group`); undefined when the Dockerfile sets none and the base image decides. */
  readonly user?: string;
  /** The absolute paths of the final stage's `VOLUME` instructions. */
  readonly volumes: string[];
}

/** The user and volumes that the final stage of a Dockerfile declares. */
export function dockerfileRuntime(dockerfile: string): ImageRuntime {
  let user: string | undefined;
  let volumes: string[] = [];
  // Join continuation lines, drop comments, read instruction by instruction.
  const lines = dockerfile.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of lines) {
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, instruction, args] = m;
    switch (instruction.toUpperCase()) {
      case 'FROM': // a new stage: what an earlier stage declared does not reach the image
        user = undefined;
        volumes = [];
        break;
      case 'USER':
        user = args.trim();
        break;
      case 'VOLUME':
        volumes.push(...volumeArgs(args));
        break;
    }
  }
  return { user, volumes };
}

function volumeArgs(args: string): string[] {
  const trimmed = args.trim();
  if (trimmed.startsWith('[')) {
    try {
      return (JSON.parse(trimmed) as unknown[]).map(String);
    } catch {
      return [];
    }
  }
  return trimmed.split(/\s+/);
}

