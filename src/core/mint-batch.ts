// The issuer mints several tokens of a run in one request (`POST /api/v1/runs/<run>/tokens` with
// `{ tokens: [...] }`, one write, all or none). It refuses more than this many; the agent sends a
// phase's configurations in batches of at most this many.

export const MAX_MINTS_PER_REQUEST = 32;
