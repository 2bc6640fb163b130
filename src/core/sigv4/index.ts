// SigV4 verification: parse the presented signature, rebuild the canonical request, compare.
export {
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  foldHeaderValue,
  type HeaderIndex,
  indexHeaders,
  parseQuery,
  splitTarget,
  stringToSign,
} from './canonical.js';
export type { RegionSet } from './checks.js';
export { formatAmzDate, parseAmzDate, parseHttpDate } from './dates.js';
export { encodeBytes, percentDecode, uriEncode } from './encode.js';
export {
  isSigV4Failure,
  SigV4Failure,
  type SigV4FailureKind,
  type SigV4FailureReason,
} from './failure.js';
export { parseAuthorization } from './parse-authorization.js';
export { hasPresignedSignature, parsePresigned } from './parse-presigned.js';
export { deriveSigningKey, SigningKeyCache } from './signing-key.js';
export type {
  CredentialScope,
  ParsedAuthorization,
  ParsedPresigned,
  QueryParam,
  SigV4Request,
} from './types.js';
export {
  DEFAULT_SKEW_MS,
  type SecretLookup,
  type SecretLookupContext,
  type SigningMaterial,
  type SigV4Result,
  signingMaterial,
  type VerifyOptions,
  verifySigV4,
} from './verify.js';
