// The run agent's error catalog: code → fixed message and the exit code the agent uses when the
// error stops a run before (or instead of) the child. Details name variables, files, ids or AWS error
// codes; never a token, secret or credential.
export const AGENT_ERRORS = {
  invalid_configuration: { exit: 2, message: 'The workspace configuration for this run is invalid.' },
  missing_agent_token: {
    exit: 2,
    message: 'An agent token is required (GATEPASS_AGENT_TOKEN or --agent-token-file).',
  },
  issuer_unreachable: { exit: 1, message: 'The issuer could not be reached.' },
  issuer_refused: { exit: 1, message: 'The issuer refused the request.' },
  sts_unreachable: { exit: 1, message: 'The STS endpoint could not be reached.' },
  sts_refused: { exit: 1, message: 'The STS endpoint refused the request.' },
  unsafe_path: { exit: 1, message: 'A credential file location is not safe to write.' },
  account_not_allowed: {
    exit: 1,
    message: 'The credentials resolve to an account that is not in the allowed account ids.',
  },
  command_failed_to_start: { exit: 127, message: 'The command could not be started.' },
} as const satisfies Record<string, { exit: number; message: string }>;

export type AgentErrorCode = keyof typeof AGENT_ERRORS;

export class AgentError extends Error {
  override readonly name = 'AgentError';
  readonly exitCode: number;
  constructor(
    readonly code: AgentErrorCode,
    /** One line per problem, shown under the message; never carries a secret. */
    readonly problems: readonly string[] = [],
  ) {
    super(AGENT_ERRORS[code].message);
    this.exitCode = AGENT_ERRORS[code].exit;
  }
}
