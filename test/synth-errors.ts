/**
 * Errors a construct records for synthesis (`PropProblems`, aws-cdk-lib's `node.addValidation`):
 * aws-cdk-lib fails the app's synthesis once, listing every construct's problems as
 * `[<path>] <message>`.
 *
 *   service(stack, { cpu: 300 });                      // constructing does not throw
 *   expectSynthError(stack, /cpu \(300\) is not a Fargate size/);
 */
import { Stage } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** The start of the error aws-cdk-lib throws when a construct's validation reports problems. */
export const VALIDATION_FAILED = 'Validation failed with the following errors:';

/**
 * The problems synthesis reports for the app (or stage) of `scope`, one per entry, each as
 * `[<path>] <message>`; [] when it synthesizes. Any other error is thrown.
 */
export function synthErrors(scope: IConstruct): string[] {
  const root = scope.node.root;
  try {
    (root as Stage).synth({ force: true });
    return [];
  } catch (e) {
    const message = (e as Error).message;
    if (!message.startsWith(VALIDATION_FAILED)) throw e;
    return message.slice(VALIDATION_FAILED.length).split(/\n  (?=\[)/).map((m) => m.trim()).filter((m) => m.length > 0);
  }
}

/** Expects the synthesis of `scope`'s app to report a problem matching each of `expected`. */
export function expectSynthError(scope: IConstruct, ...expected: Array<string | RegExp>): void {
  const errors = synthErrors(scope);
  for (const want of expected) {
    // Each entry is `[<path>] <message>`: a pattern may match the message alone (`^S/Web [Type]: ...`).
    const found = errors.some((entry) => [entry, entry.replace(/^\[[^\]]*\] /, '')].some((e) => (typeof want === 'string' ? e.includes(want) : want.test(e))));
    if (!found) throw new Error(`Synthesis should report ${want}, but it reported:\n${errors.length > 0 ? errors.join('\n') : '(nothing: it synthesized)'}`);
  }
}

/**
 * A function that builds with `build` and synthesizes its app, for `expect(...).toThrow(message)`:
 * it throws the problems synthesis reports, one message per line, without aws-cdk-lib's `[<path>]`
 * before each. If `build` itself throws, the problem was not collected: it throws an error saying so,
 * whose message matches no construct's.
 *
 *   expect(atSynth(() => new AmiBake(stack, 'Bake', { ...props, retainImages: 0 }))).toThrow(/^S\/Bake \[AmiBake\]: retainImages \(0\)/);
 */
export function atSynth(build: () => IConstruct): () => void {
  return () => {
    let built: IConstruct;
    try {
      built = build();
    } catch (e) {
      throw new Error('(thrown while constructing, before synthesis; see the cause)', { cause: e });
    }
    const errors = synthErrors(built);
    if (errors.length > 0) throw new Error(errors.map((e) => e.replace(/^\[[^\]]*\] /, '')).join('\n'));
  };
}
