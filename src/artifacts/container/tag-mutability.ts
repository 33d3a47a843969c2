/**
 * Whether a repository's tag mutability keeps one tag from moving, exclusion filters included.
 * ECR's `IMMUTABLE_WITH_EXCLUSION` makes every tag immutable except those an exclusion filter matches,
 * and `MUTABLE_WITH_EXCLUSION` makes only the matched tags immutable. A filter is a wildcard pattern
 * (`[0-9a-zA-Z._*-]`, `*` for any characters). No AWS SDK here: the construct (at synth time) and the
 * build job (at deploy time) both read it.
 *
 * Internal: not exported from the package.
 */

/** Whether an ECR exclusion filter (a wildcard pattern) matches a tag. */
export function filterMatches(filter: string, tag: string): boolean {
  const pattern = filter.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*');
  return new RegExp(`^${pattern}$`).test(tag);
}

/**
 * Whether `tag` can be moved in a repository with this mutability and these exclusion filters
 * (an unknown mutability counts as mutable: ECR's default is MUTABLE).
 */
export function tagCanMove(mutability: string | undefined, exclusionFilters: string[], tag: string): boolean {
  const excluded = exclusionFilters.some((f) => filterMatches(f, tag));
  switch (mutability) {
    case 'IMMUTABLE': return false;
    case 'IMMUTABLE_WITH_EXCLUSION': return excluded;
    case 'MUTABLE_WITH_EXCLUSION': return !excluded;
    default: return true;
  }
}

/** The setting in words, for messages. */
export function describeMutability(mutability: string | undefined, exclusionFilters: string[]): string {
  const value = mutability ?? 'MUTABLE';
  return exclusionFilters.length > 0 ? `${value} (exclusion filters ${exclusionFilters.join(', ')})` : value;
}
