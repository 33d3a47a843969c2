/**
 * The fixed build procedure of `ContainerImageBuild`: the CodeBuild buildspec and the names of the
 * environment variables through which the handler passes one build's settings. No AWS SDK here:
 * the construct and the handler both import it.
 *
 * Internal: not exported from the package.
 */

/**
 * The revision of the build procedure. It is part of every image fingerprint: bump it only when a
 * change here changes the images it produces (never for the package version), and every image is
 * built again once.
 */
export const BUILDER_REVISION = '1';

/** The prefix of fingerprint tags; lifecycle rules count the images that carry it. */
export const TAG_PREFIX = 'fp-';

/**
 * The prefix of build-cache tags: `cache-<arch>-<fingerprint>`, one per build, so that no tag ever
 * moves in a tag-immutable repository. Lifecycle rules keep the last `CACHE_IMAGES_KEPT` of them.
 */
export const CACHE_TAG_PREFIX = 'cache-';

/** How many build caches a repository's lifecycle rules keep: the newest is what the next build reads. */
export const CACHE_IMAGES_KEPT = 2;

/**
 * The BuildKit image of the builder that exports the registry cache (the `docker-container` driver:
 * the Docker daemon's own builder exports no registry cache without the containerd image store).
 * moby/buildkit v0.29.0, pinned by the digest of its multi-platform index, pulled from ECR Public's
 * mirror so that nothing comes from Docker Hub. A pull that fails falls back to the daemon's builder
 * and an inline cache: the cache only saves time.
 */
export const BUILDKIT_IMAGE = 'public.ecr.aws/vend/moby/buildkit:v0.29.0@sha256:0039c1d47e8748b5afea56f4e85f14febaf34452bd99d9552d2daa82262b5cc5';

/** How long the builder may take to start (pull and boot) before the build goes on without it, once ECR Public answered. */
export const BUILDKIT_START_SECONDS = 120;

/** The cache tag of a build: its platform's architecture and its fingerprint. */
export function cacheTagOf(platform: string, fingerprint: string): string {
  const arch = platform.split('/')[1] ?? platform;
  return `${CACHE_TAG_PREFIX}${arch.replace(/[^a-z0-9]+/gi, '')}-${fingerprint}`;
}

/** The environment variables of one build. */
export const BUILD_ENV = {
  /** The repository URI, without tag. */
  IMAGE_URI: 'CIB_IMAGE_URI',
  IMAGE_TAG: 'CIB_IMAGE_TAG',
  /** The region of the repository's registry, for `docker login`. */
  REGISTRY_REGION: 'CIB_REGISTRY_REGION',
  /** Other ECR registries the Dockerfile pulls from (`<account>.dkr.ecr.<region>.amazonaws.com`, space-separated), for `docker login`. */
  PULL_REGISTRIES: 'CIB_PULL_REGISTRIES',
  DOCKERFILE: 'CIB_DOCKERFILE',
  TARGET: 'CIB_TARGET',
  PLATFORM: 'CIB_PLATFORM',
  CACHE: 'CIB_CACHE',
  /** Images of the same repository to take cached layers from (space-separated), or '': the newest build cache, and the newest fingerprint image. */
  CACHE_FROM: 'CIB_CACHE_FROM',
  /** The tag this build writes its cache to (`cache-<arch>-<fingerprint>`), or '' for none. */
  CACHE_TAG: 'CIB_CACHE_TAG',
  BUILD_ARG_COUNT: 'CIB_BUILD_ARG_COUNT',
  /** `CIB_BUILD_ARG_0`, `CIB_BUILD_ARG_1`, ...: `NAME=value` each. */
  BUILD_ARG_PREFIX: 'CIB_BUILD_ARG_',
  FINGERPRINT: 'CIB_FINGERPRINT',
  /** The runtime's attempt that started the build: finds the build again when the request is replayed. */
  ATTEMPT: 'CIB_ATTEMPT',
} as const;

const E = BUILD_ENV;

/**
 * The build script: one bash script, so that one `set -euo pipefail` covers it.
 *
 * With the cache on, the build runs on a BuildKit builder of its own (the `docker-container` driver),
 * which exports every stage's layers (`mode=max`) to the repository as an OCI image manifest under the
 * build's own cache tag, as ECR stores BuildKit caches (`image-manifest=true,oci-mediatypes=true`). A
 * cache that cannot be exported never fails the build (`ignore-error=true`). If the builder cannot
 * start (ECR Public does not answer within 5 s, as in a VPC without a route to it, or its image cannot
 * be pulled), the build runs on the Docker daemon's own builder, explicitly named, with an inline cache
 * of the final stage, as before.
 */
const BUILD_SCRIPT = [
  'set -euo pipefail',
  `args=(--platform "$${E.PLATFORM}" --provenance=false --sbom=false --file "$${E.DOCKERFILE}" --tag "$${E.IMAGE_URI}:$${E.IMAGE_TAG}" --push)`,
  `if [ -n "\${${E.TARGET}:-}" ]; then args+=(--target "$${E.TARGET}"); fi`,
  `for ((i = 0; i < \${${E.BUILD_ARG_COUNT}:-0}; i++)); do name="${E.BUILD_ARG_PREFIX}$i"; args+=(--build-arg "\${!name}"); done`,
  `if [ "\${${E.CACHE}:-false}" = true ]; then`,
  // A quick probe first: in a VPC without a route to ECR Public, the pull would hang until the timeout.
  `  if curl --silent --max-time 5 --output /dev/null https://${BUILDKIT_IMAGE.split('/')[0]}/v2/ \\`,
  `    && timeout ${BUILDKIT_START_SECONDS} docker buildx create --name cid-cache --driver docker-container --driver-opt "image=${BUILDKIT_IMAGE}" --bootstrap; then`,
  '    args+=(--builder cid-cache)',
  `    if [ -n "\${${E.CACHE_TAG}:-}" ]; then args+=(--cache-to "type=registry,ref=$${E.IMAGE_URI}:$${E.CACHE_TAG},mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true"); fi`,
  '  else',
  '    echo "The BuildKit builder did not start: building on the Docker daemon\'s builder with an inline cache of the final stage"',
  '    docker buildx rm cid-cache >/dev/null 2>&1 || true',
  '    args+=(--builder default --cache-to type=inline)',
  '  fi',
  `  for ref in \${${E.CACHE_FROM}:-}; do args+=(--cache-from "type=registry,ref=$ref"); done`,
  'fi',
  `echo "Building $${E.IMAGE_URI}:$${E.IMAGE_TAG} for $${E.PLATFORM} (fingerprint $${E.FINGERPRINT})"`,
  'docker buildx build "${args[@]}" .',
].join('\n');

/**
 * The buildspec of the shared projects. The Docker daemon of CodeBuild's privileged mode builds
 * with BuildKit (`docker buildx build`) for the project's own platform, so arm64 images build
 * natively on ARM. Provenance and SBOM attestations are off so that the pushed digest is a single
 * image manifest that lifecycle rules handle whole. With the cache off, the daemon's own builder
 * (`docker` driver) builds with no cache. With the cache on, a BuildKit builder of the build's own
 * (its image from ECR Public, never Docker Hub) reads the repository's newest build cache and newest
 * fingerprint image, and writes every stage's layers to this build's cache tag.
 */
export function buildSpecObject(): Record<string, unknown> {
  return {
    version: '0.2',
    env: { shell: 'bash' },
    phases: {
      pre_build: {
        commands: [
          'docker version --format "Docker {{.Server.Version}}" && docker buildx version',
          `aws ecr get-login-password --region "$${E.REGISTRY_REGION}" | docker login --username AWS --password-stdin "\${${E.IMAGE_URI}%%/*}"`,
          // Base images in other accounts' or regions' registries need a login of their own (the role needs pull there: grantPull).
          `for registry in \${${E.PULL_REGISTRIES}:-}; do region=$(echo "$registry" | cut -d. -f4); aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "$registry"; done`,
        ],
      },
      build: {
        commands: [BUILD_SCRIPT],
      },
    },
  };
}
