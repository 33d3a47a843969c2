/**
 * The check of a fingerprint passed to an import (`fromFingerprint()`), shared by both kinds of
 * artifact. Internal: never exported from the package.
 */
import { Token } from 'aws-cdk-lib';
import { optionError } from './errors';

const FINGERPRINT = /^[0-9a-f]{64}$/;

/**
 * A fingerprint known at synth time must be one (64 lowercase hexadecimal characters). A token is not
 * checked (its construct warns that it is not pinned), nor the placeholder that
 * `ssm.StringParameter.valueFromLookup()` gives before its context is filled in.
 */
export function checkFingerprint(factory: string, fingerprint: string): void {
  if (Token.isUnresolved(fingerprint)) return;
  if (fingerprint.startsWith('dummy-value-for-')) return;
  if (!FINGERPRINT.test(fingerprint)) {
    throw optionError(factory, {
      prop: 'fingerprint',
      problem: `'${fingerprint}' is not a fingerprint`,
      fix: "Pass the artifact's fingerprint (64 lowercase hexadecimal characters), such as bake.fingerprint or image.fingerprint.",
    });
  }
}
