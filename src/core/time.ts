// Timestamps as AWS writes them: ISO 8601 in UTC with whole seconds (`2014-10-24T23:00:23Z`).

export function isoSeconds(date: Date | number): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
