import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EINVAL } from '../../src/core/errno.ts';
test('smoke', () => {
  assert.equal(EINVAL, -22);
});
