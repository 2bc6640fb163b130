// How a record becomes rows: its JSON document plus one row per secondary index value. Shared by
// both engines so they index identically.
import { INDEXES, type Kind, type Records } from './schema.js';

export interface IndexRow {
  name: string;
  value: string;
  unique: boolean;
}

type AnyIndexes = Record<string, { unique: boolean; of: (record: never) => string | undefined }>;

function indexesOf(kind: Kind): AnyIndexes {
  return INDEXES[kind] as AnyIndexes;
}

export function indexRows<K extends Kind>(kind: K, record: Records[K]): IndexRow[] {
  const rows: IndexRow[] = [];
  for (const [name, def] of Object.entries(indexesOf(kind))) {
    const value = (def.of as (r: Records[K]) => string | undefined)(record);
    if (value !== undefined) rows.push({ name, value, unique: def.unique });
  }
  return rows;
}

export function isKind(value: string): value is Kind {
  return Object.hasOwn(INDEXES, value);
}

/** Records are plain JSON: undefined-valued properties vanish, as they would on a round trip. */
export function encodeDoc(record: unknown): string {
  return JSON.stringify(record);
}

export function decodeDoc<T>(text: string): T {
  return JSON.parse(text) as T;
}
