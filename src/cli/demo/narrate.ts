// The demo's terminal narration: a numbered progress line per step, then indented result lines.
// Shared by the demo and the run's command it starts, so their lines read as one story.
import type { Output } from '../lib/output.js';

type Sink = Pick<Output, 'line' | 'colors'>;

export interface Narrator {
  /** `[n/total] text …` */
  step(text: string): void;
  /** An indented result line; `ok` marks it ✓, `fail` ✗. */
  detail(text: string, mark?: 'ok' | 'fail'): void;
  /** Indented lines from a nested source (the agent's log), dimmed. */
  aside(text: string): void;
}

export function createNarrator(out: Sink, total: number): Narrator {
  let n = 0;
  return {
    step(text) {
      n += 1;
      out.line(`${out.colors.bold(`[${n}/${total}]`)} ${text}`);
    },
    detail(text, mark) {
      const sign = mark === 'ok' ? out.colors.green('✓ ') : mark === 'fail' ? out.colors.red('✗ ') : '';
      out.line(`      ${sign}${text}`);
    },
    aside(text) {
      out.line(out.colors.dim(`      ${text}`));
    },
  };
}
