// Change-feed retention, the same SQL on both engines. Every node that follows the feed records how
// far it has read (`feed_readers`, a heartbeat); the feed is trimmed up to the lowest position among
// readers seen lately, and the trimmed point is kept (`feed_state`), so a reader that was behind it
// (stalled longer than the staleness window, or just started) finds out and reloads in full.

type Param = (n: number) => string;

export const MARK = (p: Param): string =>
  `INSERT INTO feed_readers (node, seq, seen) VALUES (${p(1)}, ${p(2)}, ${p(3)})
   ON CONFLICT (node) DO UPDATE SET seq = EXCLUDED.seq, seen = EXCLUDED.seen`;

export const LEAVE = (p: Param): string => `DELETE FROM feed_readers WHERE node = ${p(1)}`;

/** Readers not seen since the cutoff are gone (a stopped or stalled node): they hold nothing back. */
export const DROP_STALE = (p: Param): string => `DELETE FROM feed_readers WHERE seen < ${p(1)}`;

/** The lowest position among the remaining readers; NULL when there are none. */
export const WATERMARK = 'SELECT MIN(seq) AS w FROM feed_readers';

/** The highest seq among the oldest `limit` changes at or below the watermark: this call's bound. */
export const TRIM_BOUND = (p: Param): string =>
  `SELECT MAX(seq) AS b FROM (SELECT seq FROM changes WHERE seq <= ${p(1)} ORDER BY seq LIMIT ${p(2)}) oldest`;

export const DELETE = (p: Param): string => `DELETE FROM changes WHERE seq <= ${p(1)}`;

export const FLOOR = 'SELECT trimmed_through AS f FROM feed_state WHERE id = 1';

export const SET_FLOOR = (p: Param): string =>
  `UPDATE feed_state SET trimmed_through = ${p(1)} WHERE id = 1 AND trimmed_through < ${p(2)}`;

/** The latest change seq, which the trimmed point still counts once every row is gone. */
export const LATEST = `SELECT MAX(s) AS s FROM (
  SELECT MAX(seq) AS s FROM changes UNION ALL SELECT trimmed_through AS s FROM feed_state WHERE id = 1
) latest`;
