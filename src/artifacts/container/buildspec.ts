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
  /** An image of the same repository to take cached layers from, or ''. */
  CACHE_FROM: 'CIB_CACHE_FROM',
  BUILD_ARG_COUNT: 'CIB_BUILD_ARG_COUNT',
  /** `CIB_BUILD_ARG_0`, `CIB_BUILD_ARG_1`, ...: `NAME=value` each. */
  BUILD_ARG_PREFIX: 'CIB_BUILD_ARG_',
  FINGERPRINT: 'CIB_FINGERPRINT',
  /** The runtime's attempt that started the build: finds the build again when the request is replayed. */
  ATTEMPT: 'CIB_ATTEMPT',
} as const;

const E = BUILD_ENV;

/** The build script: one bash script, so that one `set -euo pipefail` covers it. */
const BUILD_SCRIPT = [
  'set -euo pipefail',
  `args=(--platform "$${E.PLATFORM}" --provenance=false --sbom=false --file "$${E.DOCKERFILE}" --tag "$${E.IMAGE_URI}:$${E.IMAGE_TAG}" --push)`,
  `if [ -n "\${${E.TARGET}:-}" ]; then args+=(--target "$${E.TARGET}"); fi`,
  `for ((i = 0; i < \${${E.BUILD_ARG_COUNT}:-0}; i++)); do name="${E.BUILD_ARG_PREFIX}$i"; args+=(--build-arg "\${!name}"); done`,
  `if [ "\${${E.CACHE}:-false}" = true ]; then`,
  '  args+=(--cache-to type=inline)',
  `  if [ -n "\${${E.CACHE_FROM}:-}" ]; then args+=(--cache-from "type=registry,ref=$${E.CACHE_FROM}"); fi`,
  'fi',
  `echo "Building $${E.IMAGE_URI}:$${E.IMAGE_TAG} for $${E.PLATFORM} (fingerprint $${E.FINGERPRINT})"`,
  'docker buildx build "${args[@]}" .',
].join('\n');

/**
 * The buildspec of the shared projects. The Docker daemon of CodeBuild's privileged mode builds
 * with BuildKit (`docker buildx build`, the default `docker` driver, nothing pulled from Docker Hub
 * to run the builder) for the project's own platform, so arm64 images build natively on ARM.
 * Provenance and SBOM attestations are off so that the pushed digest is a single image manifest
 * that lifecycle rules handle whole. With the cache on, the image carries inline cache metadata and
 * the build reuses the layers of the repository's most recent fingerprint image.
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
