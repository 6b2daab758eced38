import { describe, expect, it } from 'vitest';
import { eventProblem, idProblem, nameProblem, sourceIdProblem, streamProblem } from '../../src/wire.js';

// The field messages are built by one helper (script-tag bytes): the wording each field gets.
describe('wire field checks', () => {
  it.each([
    [idProblem, undefined, 'id must be a non-empty string'],
    [idProblem, '', 'id must be a non-empty string'],
    [idProblem, 'x'.repeat(257), 'id is longer than 256 characters'],
    [idProblem, 'x'.repeat(256), undefined],
    [nameProblem, 7, 'name must be a non-empty string'],
    [nameProblem, 'x'.repeat(257), 'name is longer than 256 characters'],
    [nameProblem, 'click', undefined],
    [sourceIdProblem, undefined, undefined],
    [sourceIdProblem, '', undefined],
    [sourceIdProblem, 1, 'sourceId must be a string'],
    [sourceIdProblem, 'x'.repeat(257), 'sourceId is longer than 256 characters'],
    [streamProblem, undefined, undefined],
    [streamProblem, null, 'stream must be a string'],
    [streamProblem, 'x'.repeat(129), 'stream is longer than 128 characters'],
    [streamProblem, 'x'.repeat(128), undefined],
  ] as const)('%o(%o) -> %o', (check, value, message) => {
    expect(check(value)).toBe(message);
  });

  it('eventProblem reports the first bad field', () => {
    expect(eventProblem({ id: 'a', name: 'n', timestamp: 1, stream: 5 })).toBe('stream must be a string');
    expect(eventProblem({ id: 'a', name: 'n', timestamp: 1, properties: [] })).toBe('properties must be a JSON object');
    expect(eventProblem({ id: 'a', name: 'n', timestamp: 1 })).toBeUndefined();
  });
});
