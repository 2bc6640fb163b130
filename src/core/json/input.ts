// Typed reads of a JSON 1.1 request body. A member of the wrong JSON type is a SerializationException
// (the client's serializer broke its model); a value outside the model's constraints is AWS's
// InvalidInputException with the Reason that names the rule. Unknown members are ignored, as AWS does.
import { JsonError, jsonError } from './errors.js';

export interface StringRule {
  required?: boolean;
  min?: number;
  max?: number;
  pattern?: RegExp;
}

export class JsonReader {
  constructor(private readonly body: Record<string, unknown>) {}

  private value(name: string): unknown {
    const v = this.body[name];
    return v === null ? undefined : v;
  }

  str(name: string, rule: StringRule & { required: true }): string;
  str(name: string, rule?: StringRule): string | undefined;
  str(name: string, rule: StringRule = {}): string | undefined {
    const v = this.value(name);
    if (v === undefined) {
      if (rule.required) throw new JsonError('InvalidInputException', undefined, 'INPUT_REQUIRED');
      return undefined;
    }
    if (typeof v !== 'string') throw jsonError('notAString', name);
    checkString(v, rule);
    return v;
  }

  int(name: string, min: number, max: number): number | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw jsonError('notAnInteger', name);
    if (v < min) throw new JsonError('InvalidInputException', undefined, 'MIN_VALUE_EXCEEDED');
    if (v > max) throw new JsonError('InvalidInputException', undefined, 'MAX_VALUE_EXCEEDED');
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.value(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw jsonError('notABoolean', name);
    return v;
  }

  enumeration<T extends string>(name: string, values: readonly T[], required: true): T;
  enumeration<T extends string>(name: string, values: readonly T[], required?: boolean): T | undefined;
  enumeration<T extends string>(name: string, values: readonly T[], required = false): T | undefined {
    const v = this.str(name, { required });
    if (v === undefined) return undefined;
    if (!(values as readonly string[]).includes(v))
      throw new JsonError('InvalidInputException', undefined, 'INVALID_ENUM');
    return v as T;
  }

  strings(name: string, rule: StringRule & { maxItems?: number }): string[] | undefined {
    const v = this.value(name);
    if (v === undefined) {
      if (rule.required) throw new JsonError('InvalidInputException', undefined, 'INPUT_REQUIRED');
      return undefined;
    }
    if (!Array.isArray(v)) throw jsonError('notAList', name);
    if (rule.maxItems !== undefined && v.length > rule.maxItems)
      throw new JsonError('InvalidInputException', undefined, 'INVALID_LIST_MEMBER');
    return v.map((item) => {
      if (typeof item !== 'string') throw jsonError('notAListOfStrings', name);
      checkString(item, { ...rule, required: true });
      return item;
    });
  }

  /** A list of structures, each read by its own reader. */
  structs<T>(name: string, read: (r: JsonReader) => T, required = false): T[] | undefined {
    const v = this.value(name);
    if (v === undefined) {
      if (required) throw new JsonError('InvalidInputException', undefined, 'INPUT_REQUIRED');
      return undefined;
    }
    if (!Array.isArray(v)) throw jsonError('notAList', name);
    return v.map((item) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item))
        throw jsonError('notAListOfStructures', name);
      return read(new JsonReader(item as Record<string, unknown>));
    });
  }
}

function checkString(v: string, rule: StringRule): void {
  if (rule.min !== undefined && v.length < rule.min)
    throw new JsonError('InvalidInputException', undefined, 'MIN_LENGTH_EXCEEDED');
  if (rule.max !== undefined && v.length > rule.max)
    throw new JsonError('InvalidInputException', undefined, 'MAX_LENGTH_EXCEEDED');
  if (rule.pattern && !rule.pattern.test(v))
    throw new JsonError('InvalidInputException', undefined, 'INVALID_PATTERN');
}

/** Parse a request body: empty is `{}`, anything but a JSON object is a SerializationException. */
export function parseBody(body: Uint8Array): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    throw new JsonError('SerializationException');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw jsonError('bodyNotAnObject');
  return parsed as Record<string, unknown>;
}
