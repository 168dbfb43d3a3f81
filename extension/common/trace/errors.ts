// Parse errors that point at the offending place of the source, as an editor shows it.

export interface LineColumn {
  /** 1-based line. */
  line: number;
  /** 1-based column, in UTF-16 code units. */
  column: number;
}

/** The 1-based line and column of a UTF-16 offset in `text` (a "\r\n" counts as one line break). */
export function lineColumnAt(text: string, offset: number): LineColumn {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: end - lineStart + 1 };
}

export class TraceParseError extends Error {
  readonly line: number;
  readonly column: number;

  constructor(problem: string, where: LineColumn) {
    super(`line ${where.line}, column ${where.column}: ${problem}`);
    this.name = 'TraceParseError';
    this.line = where.line;
    this.column = where.column;
  }

  static at(text: string, offset: number, problem: string): TraceParseError {
    return new TraceParseError(problem, lineColumnAt(text, offset));
  }
}
