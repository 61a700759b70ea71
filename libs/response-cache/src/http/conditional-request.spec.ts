import { ifNoneMatchMatches, isNotModified, parseEntityTagList } from './conditional-request';

describe('If-None-Match (RFC 9110 §13.1.2, weak comparison §8.8.3.2)', () => {
  // The comparison table of RFC 9110 §8.8.3.2.
  it.each([
    ['W/"1"', 'W/"1"', true],
    ['W/"1"', 'W/"2"', false],
    ['W/"1"', '"1"', true],
    ['"1"', '"1"', true],
  ])('%s vs %s → %s', (header, etag, expected) => {
    expect(ifNoneMatchMatches(header, etag)).toBe(expected);
  });

  it('matches any member of a list, with or without spaces', () => {
    expect(ifNoneMatchMatches('"a", W/"b","c"', 'W/"b"')).toBe(true);
    expect(ifNoneMatchMatches('"a", "c"', 'W/"b"')).toBe(false);
  });

  it('matches * against any current representation', () => {
    expect(ifNoneMatchMatches('*', 'W/"zzz"')).toBe(true);
  });

  it('parses entity tags that contain commas', () => {
    expect(parseEntityTagList('"a,b", W/"c"')).toEqual(['"a,b"', 'W/"c"']);
    expect(ifNoneMatchMatches('"a,b"', '"a"')).toBe(false);
  });

  it('skips malformed members instead of matching them', () => {
    expect(parseEntityTagList('abc, "ok"')).toEqual(['"ok"']);
    expect(ifNoneMatchMatches('W/1', 'W/"1"')).toBe(false);
  });
});

describe('isNotModified (RFC 9110 §13.1.3, precedence §13.2.2)', () => {
  const stored = Date.UTC(2026, 0, 1, 12, 0, 0, 500);
  const etag = 'W/"abc"';

  it('answers 304 when If-Modified-Since is at or after Last-Modified (second precision)', () => {
    expect(isNotModified({ method: 'GET', ifModifiedSince: 'Thu, 01 Jan 2026 12:00:00 GMT' }, etag, stored)).toBe(true);
    expect(isNotModified({ method: 'GET', ifModifiedSince: 'Thu, 01 Jan 2026 13:00:00 GMT' }, etag, stored)).toBe(true);
    expect(isNotModified({ method: 'GET', ifModifiedSince: 'Thu, 01 Jan 2026 11:59:59 GMT' }, etag, stored)).toBe(false);
  });

  it('ignores If-Modified-Since when If-None-Match is present', () => {
    const future = 'Fri, 01 Jan 2027 00:00:00 GMT';
    expect(isNotModified({ method: 'GET', ifNoneMatch: '"other"', ifModifiedSince: future }, etag, stored)).toBe(false);
    expect(isNotModified({ method: 'GET', ifNoneMatch: etag, ifModifiedSince: 'Thu, 01 Jan 1970 00:00:00 GMT' }, etag, stored)).toBe(true);
  });

  it('ignores an invalid date', () => {
    expect(isNotModified({ method: 'GET', ifModifiedSince: 'yesterday' }, etag, stored)).toBe(false);
    expect(isNotModified({ method: 'GET', ifModifiedSince: '1767268800' }, etag, stored)).toBe(false);
  });

  it('applies to GET and HEAD only', () => {
    expect(isNotModified({ method: 'HEAD', ifNoneMatch: etag }, etag, stored)).toBe(true);
    expect(isNotModified({ method: 'POST', ifNoneMatch: etag }, etag, stored)).toBe(false);
  });
});
