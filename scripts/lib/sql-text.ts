// SQL as text, for the database functions' files (scripts/lib/database-functions.ts): split
// into tokens so that comments and layout can be told apart from what PostgreSQL runs, and
// written for Prisma's JS migration runner, which cuts every script at every semicolon
// (`script.split(';')` in @prisma/adapter-pg's executeScript), dollar quotes included.

type TokenKind = 'space' | 'comment' | 'literal' | 'word' | 'punctuation';
interface Token {
  kind: TokenKind;
  text: string;
}

const WORD = /[\p{L}\p{N}_$]/u;

/** The end of a `$tag$` opening at `i`, or -1 when `$` starts no dollar quote there (`$1`). */
function dollarTagEnd(sql: string, i: number): number {
  const match = /^\$([\p{L}_][\p{L}\p{N}_]*)?\$/u.exec(sql.slice(i, i + 64));
  return match ? i + match[0].length : -1;
}

/**
 * PostgreSQL's lexical units, as far as telling code from layout needs: string literals
 * ('…' with '' inside, E'…' with backslash escapes, $tag$…$tag$), quoted identifiers,
 * comments (-- to the end of the line, nested block comments), whitespace, words and single
 * punctuation characters. Concatenated, the tokens give the text back unchanged.
 */
export function sqlTokens(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, end: number) => {
    tokens.push({ kind, text: sql.slice(i, end) });
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      let end = i + 1;
      while (end < sql.length && /\s/.test(sql[end]!)) end++;
      push('space', end);
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      push('comment', end < 0 ? sql.length : end);
    } else if (c === '/' && next === '*') {
      let depth = 0;
      let end = i;
      do {
        if (sql.startsWith('/*', end) || sql.startsWith('*/', end)) {
          depth += sql[end] === '/' ? 1 : -1;
          end += 2;
        } else {
          end++;
        }
      } while (depth > 0 && end < sql.length);
      push('comment', end);
    } else if (c === "'" || c === '"') {
      const previous = tokens.at(-1);
      const backslashes = c === "'" && previous?.kind === 'word' && /^[eE]$/.test(previous.text);
      let end = i + 1;
      while (end < sql.length) {
        if (backslashes && sql[end] === '\\') end += 2;
        else if (sql[end] === c && sql[end + 1] === c) end += 2;
        else if (sql[end] === c) break;
        else end++;
      }
      push('literal', Math.min(end + 1, sql.length));
    } else if (c === '$' && dollarTagEnd(sql, i) > 0 && tokens.at(-1)?.kind !== 'word') {
      const open = dollarTagEnd(sql, i);
      const tag = sql.slice(i, open);
      const close = sql.indexOf(tag, open);
      push('literal', close < 0 ? sql.length : close + tag.length);
    } else if (WORD.test(c)) {
      let end = i + 1;
      while (end < sql.length && WORD.test(sql[end]!)) end++;
      push('word', end);
    } else {
      push('punctuation', i + 1);
    }
  }
  return tokens;
}

/**
 * The text with comments removed and layout made canonical: no space next to punctuation,
 * one space between two words, literals kept exactly. Two texts that differ after this
 * differ in what PostgreSQL reads (a keyword's case counts as a difference: harmless, as
 * it only asks for a migration that was not needed); two that are equal differ only in
 * comments and in where lines break and how they are indented.
 */
export function normaliseSql(sql: string): string {
  let out = '';
  let previous: Token | undefined;
  let spaced = false;
  for (const token of sqlTokens(sql)) {
    if (token.kind === 'space' || token.kind === 'comment') {
      spaced = true;
      continue;
    }
    if (spaced && previous && previous.kind !== 'punctuation' && token.kind !== 'punctuation') out += ' ';
    out += token.text;
    previous = token;
    spaced = false;
  }
  return out;
}

/** How many statements the text holds: semicolons outside literals and comments, plus a last one without. */
export function statementCount(sql: string): number {
  let count = 0;
  let open = false;
  for (const token of sqlTokens(sql)) {
    if (token.kind === 'punctuation' && token.text === ';') {
      if (open) count++;
      open = false;
    } else if (token.kind !== 'space' && token.kind !== 'comment') {
      open = true;
    }
  }
  return count + (open ? 1 : 0);
}

/**
 * `text` as an E'…' string literal with no semicolon in it: Prisma's JS migration runner
 * splits at every one, so a function body reaches it with each `;` written as the octal
 * escape \073 (which PostgreSQL reads back as `;`), backslashes doubled and quotes doubled.
 */
export function runnerSafeLiteral(text: string): string {
  return `E'${text.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/;/g, '\\073')}'`;
}
