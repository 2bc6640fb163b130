// What every setup planner shares: the view it reads, the changes it reports, the writes an apply
// will make, the problems it found, and the ids it draws. Nothing here touches the store.
import type { Random } from '../../core/deps.js';
import type { Records } from '../../store/schema.js';
import type { StoreOps } from '../../store/types.js';
import type { SetupKind, SetupView } from './view.js';
import type { Problem } from './yaml-reader.js';

export interface SetupChange {
  op: 'create' | 'update' | 'unchanged';
  kind: SetupKind;
  /** Human name: `hub/role/net-plan`, `ou/workloads`, … */
  name: string;
  /** For an update: the fields that differ (`trustPolicy`, `document`, …). */
  fields?: string[];
}

/** One record an apply writes, in plan order. */
export interface SetupWrite {
  op: 'insert' | 'update';
  kind: SetupKind;
  id: string;
  run(tx: StoreOps): Promise<void>;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export class PlanContext {
  readonly changes: SetupChange[] = [];
  readonly writes: SetupWrite[] = [];
  readonly problems: Problem[] = [];

  constructor(
    readonly view: SetupView,
    readonly random: Random,
    /** The one time the whole plan stamps on what it creates. */
    readonly now: number,
  ) {}

  note(op: SetupChange['op'], kind: SetupKind, name: string, fields?: string[]): void {
    this.changes.push(fields ? { op, kind, name, fields } : { op, kind, name });
  }

  problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** A write the apply will make; later planners see the record through the view at once. */
  write<K extends SetupKind>(op: SetupWrite['op'], kind: K, record: Records[K]): void {
    this.view.put(kind, record);
    this.writes.push({
      op,
      kind,
      id: record.id,
      run: async (tx) => {
        if (op === 'insert') await tx.insert(kind, record);
        else await tx.update(kind, record);
      },
    });
  }

  /** Create, update or leave alone, comparing only what the file controls. */
  upsert<K extends SetupKind>(
    kind: K,
    name: string,
    existing: Records[K] | undefined,
    desired: Records[K],
  ): void {
    if (!existing) {
      this.write('insert', kind, desired);
      this.note('create', kind, name);
    } else if (!same(existing, desired)) {
      this.write('update', kind, desired);
      const before: Record<string, unknown> = { ...existing };
      const after: Record<string, unknown> = { ...desired };
      const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
      this.note(
        'update',
        kind,
        name,
        keys.filter((k) => !same(before[k], after[k])),
      );
    } else {
      this.note('unchanged', kind, name);
    }
  }
}
