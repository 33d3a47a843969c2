/**
 * What the library reads of a Dockerfile at synth time, besides fingerprinting it: the ECR registries
 * its base images come from (the build logs in to each), and the user and volumes of the stage it
 * builds (a read-only root filesystem must leave a non-root user a place to write). No AWS SDK here.
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

/** The user and volumes of an image, as the Dockerfile says them for the stage that is built. */
export interface ImageRuntime {
  /**
   * The last `USER` of the stage or of an earlier stage it builds on (name or uid, optionally
   * `:group`); undefined when the Dockerfile sets none and the base image decides.
   */
  readonly user?: string;
  /** The absolute paths of the `VOLUME` instructions of the stage and of the earlier stages it builds on. */
  readonly volumes: string[];
  /**
   * The image the stage starts from, through the earlier stages it builds on: an image the Dockerfile
   * does not describe, which may declare more volumes (and a user) of its own. Undefined for `scratch`,
   * whose image declares nothing.
   */
  readonly baseImage?: string;
}

/** One stage of a Dockerfile: what it starts from, and what its own instructions declare. */
interface Stage {
  readonly name?: string;
  readonly from: string;
  user?: string;
  readonly volumes: string[];
}

/**
 * The user and volumes of the stage a build produces: the stage named `target`, or the last one. A
 * stage that starts from an earlier stage (`FROM <stage>`) keeps that stage's user and volumes, as
 * Docker starts it from that stage's image; a stage that starts from another image keeps what that
 * image declares, which the Dockerfile does not say (`baseImage`). Returns undefined when no stage
 * has the name `target`.
 */
export function dockerfileRuntime(dockerfile: string, target?: string): ImageRuntime | undefined {
  const stages: Stage[] = [];
  // Join continuation lines, drop comments, read instruction by instruction.
  const lines = dockerfile.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of lines) {
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, instruction, args] = m;
    const stage = stages[stages.length - 1];
    switch (instruction.toUpperCase()) {
      case 'FROM': {
        // FROM [--platform=<platform>] <image> [AS <name>]
        const words = args.trim().split(/\s+/).filter((w) => !w.startsWith('--'));
        const as = words.findIndex((w) => w.toUpperCase() === 'AS');
        stages.push({ from: words[0] ?? '', name: as >= 0 ? words[as + 1]?.toLowerCase() : undefined, volumes: [] });
        break;
      }
      case 'USER':
        if (stage) stage.user = args.trim();
        break;
      case 'VOLUME':
        if (stage) stage.volumes.push(...volumeArgs(args));
        break;
    }
  }
  const index = target ? stages.findIndex((s) => s.name === target.toLowerCase()) : stages.length - 1;
  if (index < 0) return target ? undefined : { volumes: [] };
  return resolve(stages, index);
}

/** A stage's user and volumes, with those of the earlier stages it starts from (stage names are case-insensitive). */
function resolve(stages: Stage[], index: number): ImageRuntime {
  const stage = stages[index];
  const parentIndex = stages.slice(0, index).map((s) => s.name).lastIndexOf(stage.from.toLowerCase());
  const parent: ImageRuntime = parentIndex >= 0
    ? resolve(stages, parentIndex)
    : { volumes: [], baseImage: stage.from.toLowerCase() === 'scratch' ? undefined : stage.from };
  return {
    user: stage.user ?? parent.user,
    volumes: [...parent.volumes, ...stage.volumes],
    baseImage: parent.baseImage,
  };
}

/** The names of a Dockerfile's stages (`FROM ... AS <name>`), lowercase. */
export function stageNames(dockerfile: string): string[] {
  return [...dockerfile.matchAll(/^\s*FROM\s+.*?\s+AS\s+(\S+)\s*$/gim)].map((m) => m[1].toLowerCase());
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

