/**
 * Glob matching for key listings (`*`, `?`, `[abc]`, `[a-z]`, `[^a]` / `[!a]`; `\x` is a literal
 * x), without regular expressions: a backtracking RegExp built from `*a*a*a*…` takes exponential
 * time on a long key. This matcher keeps one backtrack point (the last `*`), so it runs in at most
 * pattern length × key length steps.
 */
type Token =
  { kind: 'star' } | { kind: 'any' } | { kind: 'char'; char: string } | { kind: 'class'; negate: boolean; test: (c: string) => boolean };

function parse(pattern: string): Token[] {
  const tokens: Token[] = [];
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '*') {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') {
      tokens.push({ kind: 'any' });
    } else if (c === '\\' && i + 1 < chars.length) {
      tokens.push({ kind: 'char', char: chars[++i] });
    } else if (c === '[' && chars.indexOf(']', i + 2) !== -1) {
      const end = chars.indexOf(']', i + 2);
      let body = chars.slice(i + 1, end);
      const negate = body[0] === '^' || body[0] === '!';
      if (negate) body = body.slice(1);
      const singles = new Set<string>();
      const ranges: [string, string][] = [];
      for (let j = 0; j < body.length; j++) {
        if (body[j + 1] === '-' && j + 2 < body.length) {
          ranges.push([body[j], body[j + 2]]);
          j += 2;
        } else {
          singles.add(body[j]);
        }
      }
      tokens.push({ kind: 'class', negate, test: (ch) => singles.has(ch) || ranges.some(([a, b]) => ch >= a && ch <= b) });
      i = end;
    } else {
      tokens.push({ kind: 'char', char: c });
    }
  }
  return tokens;
}

function matchesOne(token: Token, c: string): boolean {
  switch (token.kind) {
    case 'any':
      return true;
    case 'char':
      return token.char === c;
    case 'class':
      return token.test(c) !== token.negate;
    default:
      return false;
  }
}

/** A predicate for `pattern`, parsed once. */
export function globMatcher(pattern: string): (text: string) => boolean {
  const tokens = parse(pattern);
  return (text) => {
    const chars = [...text];
    let t = 0;
    let c = 0;
    let star = -1; // token index after the last star
    let resume = 0; // character index that star's match resumes from
    while (c < chars.length) {
      const token = tokens[t];
      if (token !== undefined && token.kind === 'star') {
        star = ++t;
        resume = c;
      } else if (token !== undefined && matchesOne(token, chars[c])) {
        t++;
        c++;
      } else if (star !== -1) {
        t = star;
        c = ++resume;
      } else {
        return false;
      }
    }
    while (tokens[t]?.kind === 'star') t++;
    return t === tokens.length;
  };
}
