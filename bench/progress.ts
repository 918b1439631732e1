/**
 * The live progress line: one line on stderr, rewritten in place, shown only
 * when stderr is a terminal (nothing at all when it is a file or a pipe).
 */
import type { WriteStream } from 'node:tty';

export class ProgressLine {
  private shown = false;

  constructor(private readonly stream: NodeJS.WriteStream & Partial<Pick<WriteStream, 'isTTY' | 'columns'>>) {}

  /** Replaces the line with `text` (cut to the terminal's width). */
  show(text: string): void {
    if (!this.stream.isTTY) return;
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    this.stream.write(`\r\x1b[K${text.length > width ? text.slice(0, width - 1) + '…' : text}`);
    this.shown = true;
  }

  /** Erases the line, so a row can be printed in its place. */
  clear(): void {
    if (!this.shown) return;
    this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
