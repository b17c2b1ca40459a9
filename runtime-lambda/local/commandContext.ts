import type { StatefunOutput } from './statefun';

/** What a subcommand of `statefun` gets from the program: where to write, and how to set the exit code. */
export interface CommandContext {
  readonly output: StatefunOutput;
  /** Sets the exit code `runStatefun` answers (0 unless set). */
  setCode(code: number): void;
}
