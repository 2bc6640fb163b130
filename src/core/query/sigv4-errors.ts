// AWS's answer to each typed SigV4 failure (src/core/sigv4/failure.ts): the code and the words STS
// and IAM send. SDKs key on some of them: the JS SDK v3 corrects its clock from the Date header of a
// SignatureDoesNotMatch "Signature expired" answer and retries.
import { formatAmzDate } from '../sigv4/dates.js';
import type { SigV4FailureReason } from '../sigv4/failure.js';
import { clip } from '../sigv4/parse-credential.js';
import { ALGORITHM, TERMINATOR } from '../sigv4/types.js';
import { AwsError, awsError } from './errors.js';

const minutes = (ms: number): number => Math.round(ms / 60_000);
const incomplete = (message: string): AwsError => new AwsError('IncompleteSignature', message);

export function sigV4Error(reason: SigV4FailureReason): AwsError {
  switch (reason.kind) {
    case 'wrong-service':
      return awsError('wrongService', reason.expected.join("' or '"));
    case 'invalid-region':
      // STS's words; IAM (a global service) names the region it refuses. Both end in a space.
      return new AwsError(
        'SignatureDoesNotMatch',
        reason.service === 'iam'
          ? `Credential should be scoped to a valid region, not '${clip(reason.region)}'. `
          : 'Credential should be scoped to a valid region. ',
      );
    case 'scope-date':
      return new AwsError(
        'SignatureDoesNotMatch',
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${clip(reason.scopeDate)}' != '${reason.amzDate.slice(0, 8)}', from '${reason.amzDate}'.`,
      );
    case 'signature-expired':
      return new AwsError(
        'SignatureDoesNotMatch',
        `Signature expired: ${reason.amzDate} is now earlier than ${formatAmzDate(reason.now - reason.skewMs)} (${formatAmzDate(reason.now)} - ${minutes(reason.skewMs)} min.)`,
      );
    case 'signature-not-yet-current':
      return new AwsError(
        'SignatureDoesNotMatch',
        `Signature not yet current: ${reason.amzDate} is still later than ${formatAmzDate(reason.now + reason.skewMs)} (${formatAmzDate(reason.now)} + ${minutes(reason.skewMs)} min.)`,
      );
    case 'presigned-expired':
      return new AwsError(
        'RequestExpired',
        `Request has expired: ${formatAmzDate(reason.expiresAt)} is earlier than ${formatAmzDate(reason.now)}.`,
      );
    case 'payload-hash-mismatch':
      return new AwsError(
        'SignatureDoesNotMatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
    case 'signature-mismatch':
      return new AwsError('SignatureDoesNotMatch');
    case 'unknown-access-key':
      return new AwsError('InvalidClientTokenId');
    case 'no-signature':
      return new AwsError('MissingAuthenticationToken');
    case 'two-signatures':
      return incomplete(
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.',
      );
    case 'repeated-authorization':
      return incomplete('Only one Authorization header is allowed.');
    case 'unsupported-algorithm':
      return incomplete(`Unsupported AWS 'algorithm': '${reason.algorithm}'.`);
    case 'missing-parameters':
      return incomplete(
        reason.missing.map((p) => `Authorization header requires '${p}' parameter.`).join(' '),
      );
    case 'not-key-value':
      return incomplete(
        `'${reason.item}' not a valid key=value pair (missing equal-sign) in Authorization header.`,
      );
    case 'duplicate-parameter':
      return incomplete(`Authorization header has a duplicate '${reason.key}' parameter.`);
    case 'credential-elements':
      return incomplete(
        `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${reason.value}'`,
      );
    case 'credential-terminator':
      return new AwsError(
        'SignatureDoesNotMatch',
        `Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${reason.terminator}'.`,
      );
    case 'signed-headers-format':
      return incomplete(
        `SignedHeaders must be a ';'-separated list of lower-case header names, got '${reason.value}'.`,
      );
    case 'signed-headers-duplicate':
      return incomplete(`SignedHeaders lists '${reason.name}' more than once.`);
    case 'host-not-signed':
      return incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    case 'no-date':
      return incomplete(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
      );
    case 'bad-date':
      return incomplete(
        `Date must be in ISO-8601 'basic format'. Got '${reason.value}'. See http://en.wikipedia.org/wiki/ISO_8601`,
      );
    case 'presigned-duplicate':
      return incomplete(`Duplicate query parameter '${reason.name}'.`);
    case 'presigned-missing':
      return incomplete(
        "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires'. Re-examine the query-string parameters.",
      );
    case 'presigned-algorithm':
      return incomplete(`X-Amz-Algorithm only supports '${ALGORITHM}', got '${reason.algorithm}'.`);
    case 'presigned-expires-not-number':
      return incomplete('X-Amz-Expires should be a number.');
    case 'presigned-expires-range':
      return incomplete(`X-Amz-Expires must be between 1 and ${reason.max} seconds (seven days).`);
    case 'presigned-bad-date':
      return incomplete(
        `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'", got '${reason.value}'.`,
      );
  }
}
