// Finding the `gatepass` commands that README.md and docs/ show, and checking one against the real
// command tree. The convention (docs/README.md):
//  - fenced blocks tagged sh, bash, shell or console hold commands; `$ ` prompts, `\` continuations,
//    `#` comments, `VAR=value` prefixes, `npx`, and `&&`, `||`, `;`, `|` chains are understood;
//  - every `gatepass …` command in them must parse: the subcommand exists, every flag exists and
//    gets a valid value, the arguments are complete;
//  - blocks tagged `sh run` are also executed (see commands.test.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type Command, CommanderError } from 'commander';
import { buildProgram } from '../../src/cli/command-tree.js';
import { loadCommands } from '../../src/cli/commands/index.js';
import { createOutput } from '../../src/cli/lib/output.js';

export const root = new URL('../..', import.meta.url).pathname;
const SHELLS = new Set(['sh', 'bash', 'shell', 'console']);

export interface Block {
  file: string;
  line: number;
  info: string[];
  text: string;
}

export interface DocCommand {
  file: string;
  line: number;
  /** The words after `gatepass`. */
  args: string[];
  source: string;
  /** Written as `npx gatepass` (what works right after the quick start, with no global install). */
  npx: boolean;
}

/** README.md and every docs/**.md except the generated reference. */
export function docFiles(): string[] {
  const out = ['README.md'];
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(root, dir)).sort()) {
      const path = join(dir, name);
      if (statSync(join(root, path)).isDirectory()) {
        if (path !== join('docs', 'reference')) walk(path);
      } else if (name.endsWith('.md')) out.push(path);
    }
  };
  walk('docs');
  return out;
}

export function shellBlocks(file: string): Block[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  let open: Block | undefined;
  let fence = '';
  lines.forEach((line, i) => {
    const m = /^(\s*)(`{3,}|~{3,})\s*(.*)$/.exec(line);
    if (!open && m) {
      fence = m[2] ?? '```';
      open = { file, line: i + 2, info: (m[3] ?? '').trim().split(/\s+/).filter(Boolean), text: '' };
      return;
    }
    if (open && m && (m[2] ?? '').startsWith(fence) && (m[3] ?? '') === '') {
      if (SHELLS.has(open.info[0] ?? '')) blocks.push(open);
      open = undefined;
      return;
    }
    if (open) open.text += `${line}\n`;
  });
  return blocks;
}

/** Shell words of one line, with quotes removed; `#` at a word start ends it. Operators are words. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const push = (): void => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      word = (word ?? '') + line.slice(i + 1, end < 0 ? line.length : end);
      i = end < 0 ? line.length : end;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < line.length && line[j] !== '"') {
        if (line[j] === '\\' && j + 1 < line.length) j++;
        s += line[j];
        j++;
      }
      word = (word ?? '') + s;
      i = j;
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[i + 1];
      i++;
    } else if (c === ' ' || c === '\t') {
      push();
    } else if (c === '#' && word === undefined) {
      break;
    } else if (c === '&' || c === '|' || c === ';') {
      push();
      const two = line.slice(i, i + 2);
      if (two === '&&' || two === '||') {
        words.push(two);
        i++;
      } else words.push(c);
    } else {
      word = (word ?? '') + c;
    }
  }
  push();
  return words;
}

/** Logical lines of a block: prompts stripped, continuations joined, blank lines dropped. */
export function logicalLines(text: string): { line: string; offset: number }[] {
  const out: { line: string; offset: number }[] = [];
  let current = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    let line = raw.replace(/^\s*\$ /, '');
    if (current === '') start = i;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      return;
    }
    line = current + line;
    current = '';
    if (line.trim() !== '') out.push({ line, offset: start });
  });
  return out;
}

const OPERATORS = new Set(['&&', '||', '|', ';', '&']);

export function gatepassCommands(block: Block): DocCommand[] {
  const found: DocCommand[] = [];
  for (const { line, offset } of logicalLines(block.text)) {
    const words = shellWords(line);
    let simple: string[] = [];
    const flush = (): void => {
      let k = 0;
      while (k < simple.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(simple[k] ?? '')) k++;
      // `npx gatepass`, also inside a command substitution (`x=$(npx gatepass …)`).
      const npx = simple[k] === 'npx' || /\$\(npx$/.test(simple[k - 1] ?? '');
      if (simple[k] === 'npx') k++;
      if (simple[k] === 'gatepass')
        found.push({
          file: block.file,
          line: block.line + offset,
          args: simple.slice(k + 1),
          source: line.trim(),
          npx,
        });
      simple = [];
    };
    for (const w of words) {
      if (OPERATORS.has(w)) flush();
      else simple.push(w);
    }
    flush();
  }
  return found;
}

/** Parse `args` with the real command tree, every action replaced by a no-op; undefined = fine. */
export async function parseProblem(args: readonly string[]): Promise<string | undefined> {
  const errors: string[] = [];
  const sink = { write: () => true };
  const errSink = { write: (s: string) => errors.push(s) };
  const program = buildProgram(
    createOutput({ stdout: sink, stderr: errSink, color: false }),
    await loadCommands(),
  );
  const neuter = (cmd: Command): void => {
    if (cmd.commands.length === 0) cmd.action(() => undefined);
    for (const sub of cmd.commands) neuter(sub);
  };
  neuter(program);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return undefined;
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0) return undefined;
    const message = err instanceof Error ? err.message : String(err);
    return errors.join('').trim() || message;
  }
}

export const where = (c: { file: string; line: number }): string => `${relative('.', c.file)}:${c.line}`;
