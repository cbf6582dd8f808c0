// Shared by the bayes family's tests and its layers' tests in test/nn.
import assert from 'node:assert/strict';
import { GenlabError } from '../../src/torch/errors.js';

/** fn throws a GenlabError whose message is one line and matches pattern. */
export function assertOneLineError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof GenlabError, String(e));
    assert.ok(!e.message.includes('\n'), e.message);
    assert.match(e.message, pattern);
    return true;
  });
}
