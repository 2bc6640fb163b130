// AWS's answer to each typed SigV4 failure (src/core/sigv4/failure.ts): the code and the words STS
// and IAM send. SDKs key on some of them: the JS SDK v3 corrects its clock from the Date header of a
// SignatureDoesNotMatch "Signature expired" answer and retries.
import { formatAmzDate } from '../sigv4/dates.js';
import type { SigV4FailureReason } from '../sigv4/failure.js';
import { clip } from '../sigv4/parse-credential.js';
import { AwsError } from './errors.js';

const minutes = (ms: number): number => Math.round(ms / 60_000);

export function sigV4Error(reason: SigV4FailureReason): AwsError {
  switch (reason.kind) {
    case 'wrong-service':
      return new AwsError(
        'SignatureDoesNotMatch',
        `Credential should be scoped to correct service: '${reason.expected.join("' or '")}'.`,
      );
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
  }
}
