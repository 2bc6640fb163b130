// Wildcard matching for actions, resources (ARN component by component) and principals. The glob
// works on index ranges with char codes so the hot path allocates nothing.

const STAR = 42;
const QUESTION = 63;

const fold = (c: number): number => (c >= 65 && c <= 90 ? c + 32 : c);

/**
 * `*` matches any run (including empty), `?` exactly one character. `literal` marks pattern positions
 * that came from a policy variable or an escape (`${*}`), which never act as wildcards.
 */
export function globRange(
  p: string,
  ps: number,
  pe: number,
  v: string,
  vs: number,
  ve: number,
  ignoreCase: boolean,
  literal?: Uint8Array,
): boolean {
  let pi = ps;
  let vi = vs;
  let star = -1;
  let mark = vs;
  while (vi < ve) {
    if (pi < pe) {
      const pc = p.charCodeAt(pi);
      const wild = literal === undefined || literal[pi] !== 1;
      if (pc === STAR && wild) {
        star = pi++;
        mark = vi;
        continue;
      }
      const vc = v.charCodeAt(vi);
      if ((pc === QUESTION && wild) || pc === vc || (ignoreCase && fold(pc) === fold(vc))) {
        pi++;
        vi++;
        continue;
      }
    }
    if (star < 0) return false;
    pi = star + 1;
    vi = ++mark;
  }
  while (pi < pe && p.charCodeAt(pi) === STAR && (literal === undefined || literal[pi] !== 1)) pi++;
  return pi === pe;
}

export const glob = (pattern: string, value: string, ignoreCase: boolean, literal?: Uint8Array): boolean =>
  globRange(pattern, 0, pattern.length, value, 0, value.length, ignoreCase, literal);

/** Actions: `service:Operation`, case-insensitive, `*` and `?` anywhere. */
export const actionMatches = (pattern: string, action: string): boolean => glob(pattern, action, true);

/** True when `s` has at least five colons, i.e. the six components of an ARN. */
function arnShaped(s: string): boolean {
  let at = -1;
  for (let n = 0; n < 5; n++) {
    at = s.indexOf(':', at + 1);
    if (at < 0) return false;
  }
  return true;
}

/**
 * ARN matching, case-sensitive: each of the first five components is matched on its own (a `*` never
 * spans a colon there); the resource component may contain `:` and `/` and a `*` spans both.
 * A pattern that is not ARN-shaped (e.g. "*") is matched against the whole value; a truncated ARN
 * pattern ("arn:aws:iam::*") matches nothing, since its last `*` would have to span components.
 */
export function arnMatches(pattern: string, value: string, literal?: Uint8Array): boolean {
  if (!arnShaped(pattern)) return !pattern.startsWith('arn:') && glob(pattern, value, false, literal);
  let ps = 0;
  let vs = 0;
  for (let n = 0; n < 5; n++) {
    const pe = pattern.indexOf(':', ps);
    const ve = value.indexOf(':', vs);
    if (ve < 0 || !globRange(pattern, ps, pe, value, vs, ve, false, literal)) return false;
    ps = pe + 1;
    vs = ve + 1;
  }
  return globRange(pattern, ps, pattern.length, value, vs, value.length, false, literal);
}

/**
 * Resource element entries: "*" or an ARN pattern. The requested resource is a literal name, never a
 * pattern: a request for `*` (what AWS's simulator asks when ResourceArns is left out, "all resources"
 * in botocore's SimulateCustomPolicy docs) or for `arn:…:bucket/*` is matched only by a statement that
 * covers that text, not by one granting some of the resources it could stand for. Recorded
 * disagreement with cloud-copilot/iam-simulate, which asks whether any resource the request's
 * pattern covers is allowed (its resourceWildcards scenarios).
 */
export const resourceMatches = (pattern: string, resource: string, literal?: Uint8Array): boolean =>
  (pattern === '*' && literal === undefined) || arnMatches(pattern, resource, literal);
