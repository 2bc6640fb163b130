// Schema of test/vectors/sigv4/*.json, shared by the generator and the driver.

export interface SigV4Vector {
  /** Upstream test-suite id (aws-sig-v4-test-suite) or a gatepass-specific name. */
  name: string;
  description: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  region: string;
  service: string;
  /** X-Amz-Date of the signature. */
  date: string;
  presigned: boolean;
  request: {
    method: string;
    path: string;
    query: string;
    /** Node-style raw header list [name, value, …], Authorization included for header signatures. */
    rawHeaders: string[];
    body: string;
  };
  signedHeaders: string[];
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
  /** The Authorization header (header signatures only). */
  authorization?: string;
  /** Signature published in the official AWS suite, when this case is one of its classics. */
  officialSignature?: string;
}

export const SUITE = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
  service: 'service',
  date: '20150830T123600Z',
  dateMs: Date.UTC(2015, 7, 30, 12, 36, 0),
} as const;
