// Node's rawHeaders ([name, value, name, value, …]) read without building an object per request.

/** The first value of header `name` (lower case), or undefined. */
export function rawHeader(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() === name) return raw[i + 1];
  }
  return undefined;
}
