/** The library's fingerprint of one build context alone (what ContainerImageBuild computes first), with no app. */
import { performance } from 'perf_hooks';
import { library, singleContextDir } from '../common';

const { Fingerprint } = library();

export function measure(): { [name: string]: number } {
  const start = performance.now();
  Fingerprint.ofDirectory(singleContextDir());
  return { fingerprintMs: performance.now() - start };
}
