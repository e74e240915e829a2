// Diagnostics on stderr: warnings, errors, verbose traces and the progress line.
// Nothing here ever receives secret material: callers pass names, not values.

export type ColorMode = 'auto' | 'always' | 'never';

export function colorEnabled(mode: ColorMode, stream: NodeJS.WriteStream = process.stderr): boolean {
  if (mode === 'always') return true;
  if (mode === 'never') return false;
  // kubectl's rule (cli-runtime AllowsColorOutput): a terminal, TERM not dumb, NO_COLOR unset.
  return Boolean(stream.isTTY) && process.env.TERM !== 'dumb' && process.env.NO_COLOR === undefined;
}

export class Log {
  private progressShown = false;

  constructor(
    private readonly verbose: boolean,
    private readonly color: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  private paint(code: number, text: string): string {
    return this.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  private write(line: string): void {
    this.clearProgress();
    this.stream.write(`${line}\n`);
  }

  warn(message: string): void {
    this.write(`${this.paint(33, 'warning:')} ${message}`);
  }

  error(message: string): void {
    this.write(`${this.paint(31, 'error:')} ${message}`);
  }

  info(message: string): void {
    this.write(message);
  }

  /** `-v`: requests and decisions. */
  debug(message: string): void {
    if (this.verbose) this.write(this.paint(2, message));
  }

  get isVerbose(): boolean {
    return this.verbose;
  }

  /** A single rewritten status line, only on a terminal. */
  progress(message: string): void {
    if (!this.stream.isTTY) return;
    this.stream.write(`\r\x1b[2K${message}`);
    this.progressShown = true;
  }

  clearProgress(): void {
    if (!this.progressShown) return;
    this.stream.write('\r\x1b[2K');
    this.progressShown = false;
  }
}
