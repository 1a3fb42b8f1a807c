/**
 * jsonDepth (src/validation/validator.ts): containers counted as JSON nests them, the count capped at
 * the limit, and hostile nesting far deeper than the limit answered without exhausting the stack.
 */
import { jsonDepth, MAX_DEPTH, Validator } from '../../src/validation';

test('counts nested objects and arrays, not scalars', () => {
  expect(jsonDepth('x', 10)).toBe(1);
  expect(jsonDepth({}, 10)).toBe(1);
  expect(jsonDepth({ a: 1, b: 'x', c: null }, 10)).toBe(1);
  expect(jsonDepth([[1]], 10)).toBe(2);
  expect(jsonDepth({ a: [{ b: {} }], c: { d: 1 } }, 10)).toBe(4);
  expect(jsonDepth([1, [2, [3, [4]]], []], 10)).toBe(4);
});

test('stops at the limit, however deep the value', () => {
  let deep: unknown = {};
  for (let i = 0; i < 200_000; i++) deep = i % 2 ? { a: deep } : [deep];
  expect(jsonDepth(deep, MAX_DEPTH + 1)).toBe(MAX_DEPTH + 1);
  expect(jsonDepth({ a: [{ b: {} }] }, 2)).toBe(2);
});

test('the validator refuses JSON nested deeper than MAX_DEPTH and walks what is shallower', () => {
  const validator = Validator.create();
  let ext: Record<string, unknown> = { url: 'http://example.org/x', valueString: 'y' };
  for (let i = 0; i < MAX_DEPTH; i++) ext = { url: 'http://example.org/x', extension: [ext] };
  const deep = validator.validate({ resourceType: 'Basic', code: { text: 'x' }, extension: [ext] });
  expect(deep.issues[0].code).toBe('too-long');
  const shallow = validator.validate({ resourceType: 'Basic', code: { text: 'x' }, extension: [{ url: 'http://example.org/x', valueString: 'y' }] });
  expect(shallow.issues.every((i) => i.code !== 'too-long')).toBe(true);
});
