// AWS's answer to each typed SigV4 failure (src/core/sigv4/failure.ts): which of the catalog's
// sentences STS and IAM send, with its values. SDKs key on some of them: the JS SDK v3 corrects its clock from the Date header of a
// SignatureDoesNotMatch "Signature expired" answer and retries.
import { formatAmzDate } from '../sigv4/dates.js';
import type { SigV4FailureReason } from '../sigv4/failure.js';
import { clip } from '../sigv4/parse-credential.js';
import { ALGORITHM, TERMINATOR } from '../sigv4/types.js';
import { AwsError, awsError } from './errors.js';

const minutes = (ms: number): number => Math.round(ms / 60_000);

export function sigV4Error(reason: SigV4FailureReason): AwsError {
  switch (reason.kind) {
    case 'wrong-service':
      return awsError('wrongService', reason.expected.join("' or '"));
    case 'invalid-region':
      return reason.service === 'iam'
        ? awsError('regionInvalidNamed', clip(reason.region))
        : awsError('regionInvalid');
    case 'scope-date':
      return awsError('scopeDateMismatch', clip(reason.scopeDate), reason.amzDate);
    case 'signature-expired':
      return awsError(
        'signatureExpired',
        reason.amzDate,
        formatAmzDate(reason.now - reason.skewMs),
        formatAmzDate(reason.now),
        minutes(reason.skewMs),
      );
    case 'signature-not-yet-current':
      return awsError(
        'signatureNotYetCurrent',
        reason.amzDate,
        formatAmzDate(reason.now + reason.skewMs),
        formatAmzDate(reason.now),
        minutes(reason.skewMs),
      );
    case 'presigned-expired':
      return awsError('presignedExpired', formatAmzDate(reason.expiresAt), formatAmzDate(reason.now));
    case 'payload-hash-mismatch':
      return awsError('payloadHashMismatch');
    case 'signature-mismatch':
      return new AwsError('SignatureDoesNotMatch');
    case 'unknown-access-key':
      return new AwsError('InvalidClientTokenId');
    case 'no-signature':
      return new AwsError('MissingAuthenticationToken');
    case 'two-signatures':
      return awsError('twoAuthMechanisms');
    case 'repeated-authorization':
      return awsError('repeatedAuthorization');
    case 'unsupported-algorithm':
      return awsError('unsupportedAlgorithm', reason.algorithm);
    case 'missing-parameters':
      return awsError('missingAuthParameters', reason.missing);
    case 'not-key-value':
      return awsError('notKeyValue', reason.item);
    case 'duplicate-parameter':
      return awsError('duplicateAuthParameter', reason.key);
    case 'credential-elements':
      return awsError('credentialElements', reason.value);
    case 'credential-terminator':
      return awsError('credentialTerminator', TERMINATOR, reason.terminator);
    case 'signed-headers-format':
      return awsError('signedHeadersFormat', reason.value);
    case 'signed-headers-duplicate':
      return awsError('signedHeadersDuplicate', reason.name);
    case 'host-not-signed':
      return awsError('hostNotSigned');
    case 'no-date':
      return awsError('noDate');
    case 'bad-date':
      return awsError('badDate', reason.value);
    case 'presigned-duplicate':
      return awsError('presignedDuplicate', reason.name);
    case 'presigned-missing':
      return awsError('presignedMissing');
    case 'presigned-algorithm':
      return awsError('presignedAlgorithm', ALGORITHM, reason.algorithm);
    case 'presigned-expires-not-number':
      return awsError('presignedExpiresNotNumber');
    case 'presigned-expires-range':
      return awsError('presignedExpiresRange', reason.max);
    case 'presigned-bad-date':
      return awsError('presignedBadDate', reason.value);
  }
}
