/**
 * What a container image declares about how it runs: its user and its volumes, as its Dockerfile says
 * them for the stage that is built. ImmutableFargateService reads it, when the artifact can tell, to check that a
 * read-only root filesystem leaves the image's user a place to write. Not exported from the package.
 *
 * Why it matters: on Fargate, a bind-mount volume is owned by root with mode 0755, so a non-root
 * process cannot write to an empty one (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html,
 * https://github.com/aws/containers-roadmap/issues/938). When the image declares a `VOLUME` at exactly
 * the mount's container path, ECS copies that directory of the image (its files, owner and mode) into
 * the volume: a `/tmp` of mode 1777, or a directory the Dockerfile chowns to its user, stays writable.
 */
import type { ImageRuntime } from '../../artifacts/container/dockerfile';

export type { ImageRuntime };

/**
 * An artifact that can say what its image declares. `ContainerImageBuild` knows its Dockerfile; an
 * image imported by digest does not, and is not checked.
 */
export interface DescribesImageRuntime {
  _imageRuntime(): ImageRuntime | undefined;
}

export function describesImageRuntime(artifact: unknown): artifact is DescribesImageRuntime {
  return typeof (artifact as Partial<DescribesImageRuntime> | undefined)?._imageRuntime === 'function';
}

/** Whether a user is root: `root`, uid 0, with or without a group. */
export function isRootUser(user: string): boolean {
  const name = user.split(':')[0];
  return name === 'root' || name === '0';
}

/** `/var/cache/nginx/` and `/var/cache/nginx` are the same path. */
export function samePath(a: string, b: string): boolean {
  const norm = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);
  return norm(a) === norm(b);
}
