// Policy documents as IAM validates them: the engine's parser, with its error turned into AWS's
// MalformedPolicyDocument (or LimitExceeded for size).
import { type PolicyKind, PolicyValidationError, parsePolicy } from '../../core/policy/index.js';
import { AwsError } from '../../core/query/errors.js';

/** Validate a document for its kind, turning the engine's error into AWS's MalformedPolicyDocument. */
export function validateDocument(
  text: string,
  kind: PolicyKind,
  maxSize?: number,
): ReturnType<typeof parsePolicy> {
  try {
    return parsePolicy(text, kind, maxSize !== undefined ? { maxSize } : {});
  } catch (err) {
    if (err instanceof PolicyValidationError) throw new AwsError(err.code, err.message);
    throw err;
  }
}
