// The parameter contract of the Movement Pass foundation, declared once: every key a stage
// publishes in SSM, its value type, who writes it and when it is there. The client's types, its
// validation, the contract tables of docs/contract.md and the template tests all follow from this file.

/** How a value is read: SSM stores strings, the client hands out these types. */
export type ValueKind = 'string' | 'number' | 'url' | 'arn' | 'jwks' | 'pem' | 'algorithm' | 'duration';

/** When a stage holds the key: always, on custom-domain (shared) stages, or with one kind of JWT algorithm. */
export type Presence = 'always' | 'customDomain' | 'asymmetric' | 'symmetric';

/** What writes the key: the stack itself, the key ring custom resources, or the certificates plugin on deploy. */
export type Writer = 'stack' | 'keyRing' | 'signingKey' | 'certificates';

/**
 * Every region of a stage publishes the whole contract in its own SSM. A `global` key holds the
 * same value in every region (the same keys, names, settings); a `regional` key holds that
 * region's own resource (its queue, its bucket, its replica's stream, its JWKS endpoint), so a
 * service reads the contract of the region it runs in.
 */
export type Scope = 'global' | 'regional';

export interface KeyDeclaration {
  readonly kind: ValueKind;
  readonly presence: Presence;
  readonly writer: Writer;
  readonly scope: Scope;
  /** The module that decides the value. */
  readonly source: string;
  readonly description: string;
  /** A prod value (shortened where long). */
  readonly example: string;
}

export const app = 'movement-pass';
export const jwtAlgorithms = ['RS256', 'ES256', 'HS256'] as const;
export type JwtAlgorithm = (typeof jwtAlgorithms)[number];

/** Everything a service needs, nothing secret: any service of the account may read it whole. */
export const contractRoot = (stage: string): string => `/${app}/${stage}/`;
/** The signing keys, read only by the services that sign (JWTs, photo URLs). */
export const signingRoot = (stage: string): string => `/${app}-signing/${stage}/`;

const configuration = 'resources/configuration.ts';
const certificates = 'plugins/certificates.js';
const jwt = 'resources/jwt.ts';
const keyRing = 'handlers/key-ring';
const signingKey = 'handlers/key-ring/signing-key.ts';
const photos = 'resources/photos.ts';
const database = 'resources/database.ts';
const queue = 'resources/queue.ts';

/** The public keys, under `/movement-pass/<stage>/`. */
export const contractKeys = {
  app: {
    kind: 'string',
    presence: 'always',
    writer: 'stack',
    scope: 'global',
    source: configuration,
    description: 'Solution name',
    example: 'movement-pass',
  },
  version: {
    kind: 'string',
    presence: 'always',
    writer: 'stack',
    scope: 'global',
    source: configuration,
    description: 'Contract version, bumped only on a breaking change',
    example: 'v1',
  },
  stage: {
    kind: 'string',
    presence: 'always',
    writer: 'stack',
    scope: 'global',
    source: configuration,
    description: 'Stage name',
    example: 'prod',
  },
  domain: {
    kind: 'string',
    presence: 'always',
    writer: 'stack',
    scope: 'global',
    source: configuration,
    description: 'Domain of the product',
    example: 'movement-pass.com',
  },
  clientCertificateArn: {
    kind: 'arn',
    presence: 'customDomain',
    writer: 'certificates',
    scope: 'global',
    source: certificates,
    description: 'ACM certificate in us-east-1 for CloudFront (shared stages only)',
    example: 'arn:aws:acm:us-east-1:123456789012:certificate/...',
  },
  serverCertificateArn: {
    kind: 'arn',
    presence: 'customDomain',
    writer: 'certificates',
    scope: 'regional',
    source: certificates,
    description: "ACM certificate in this region for API Gateway's regional domain (shared stages only)",
    example: 'arn:aws:acm:ap-south-1:123456789012:certificate/...',
  },
  jwtAlgorithm: {
    kind: 'algorithm',
    presence: 'always',
    writer: 'stack',
    scope: 'global',
    source: jwt,
    description: 'JWT signing algorithm: RS256, ES256 or HS256 (stage setting `jwt.algorithm`)',
    example: 'RS256',
  },
  jwtIssuer: {
    kind: 'string',
    presence: 'always',
    writer: 'stack',
    scope: 'global',
    source: jwt,
    description: 'JWT issuer (`iss`)',
    example: 'https://public-api.movement-pass.com',
  },
  jwtAudience: {
    kind: 'string',
    presence: 'always',
    writer: 'stack',
    scope: 'global',
    source: jwt,
    description: 'JWT audience (`aud`)',
    example: 'https://movement-pass.com',
  },
  jwtExpire: {
    kind: 'duration',
    presence: 'always',
    writer: 'stack',
    scope: 'global',
    source: jwt,
    description: 'JWT lifetime (`jose`/`ms` notation)',
    example: '1h',
  },
  jwksUrl: {
    kind: 'url',
    presence: 'always',
    writer: 'stack',
    scope: 'regional',
    source: jwt,
    description:
      "URL of the JWKS that verifies the JWTs: this region's endpoint (`public-api` at home on a custom-domain stage, the region's `execute-api` URL elsewhere)",
    example: 'https://public-api.movement-pass.com/foundation/.well-known/jwks.json',
  },
  jwtPublicKey: {
    kind: 'pem',
    presence: 'asymmetric',
    writer: 'keyRing',
    scope: 'global',
    source: keyRing,
    description: 'SPKI PEM of the current signing key (absent with HS256)',
    example: '-----BEGIN PUBLIC KEY-----...',
  },
  jwtKeyId: {
    kind: 'string',
    presence: 'always',
    writer: 'keyRing',
    scope: 'global',
    source: keyRing,
    description: 'Key id (`kid`) of the current signing key: RFC 7638 thumbprint (HS256: a one-way id)',
    example: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
  },
  jwks: {
    kind: 'jwks',
    presence: 'always',
    writer: 'keyRing',
    scope: 'global',
    source: keyRing,
    description: 'JWKS of the previous, current and next signing keys (`{"keys":[]}` with HS256)',
    example: '{"keys":[{"kty":"RSA","kid":"...","alg":"RS256","use":"sig","n":"...","e":"AQAB"}]}',
  },
  photoBucketName: {
    kind: 'string',
    presence: 'always',
    writer: 'stack',
    scope: 'regional',
    source: photos,
    description: "This region's photo bucket (presigned uploads; the buckets replicate both ways)",
    example: 'movement-pass-prod-photos-123456789012',
  },
  photoUploadExpiration: {
    kind: 'number',
    presence: 'always',
    writer: 'stack',
    scope: 'global',
    source: photos,
    description: 'Seconds a presigned upload URL lives',
    example: '300',
  },
  photoBaseUrl: {
    kind: 'url',
    presence: 'always',
    writer: 'stack',
    scope: 'global',
    source: photos,
    description: 'Where photos are served (sandbox: the `cloudfront.net` name)',
    example: 'https://photos.movement-pass.com',
  },
  photoUrlKeyPairId: {
    kind: 'string',
    presence: 'always',
    writer: 'signingKey',
    scope: 'global',
    source: signingKey,
    description: 'CloudFront public key id of the URL-signing key',
    example: 'K2JCJMDEHXQW5F',
  },
  photoUrlPublicKeys: {
    kind: 'jwks',
    presence: 'always',
    writer: 'keyRing',
    scope: 'global',
    source: keyRing,
    description: 'JWKS of the previous, current and next URL-signing keys',
    example: '{"keys":[{"kty":"RSA","kid":"...","alg":"RS256","use":"sig","n":"...","e":"AQAB"}]}',
  },
  applicantsTable: {
    kind: 'string',
    presence: 'always',
    writer: 'stack',
    scope: 'global',
    source: database,
    description: 'Applicants table',
    example: 'movement-pass-prod-applicants',
  },
  applicantsTableStreamArn: {
    kind: 'arn',
    presence: 'always',
    writer: 'stack',
    scope: 'regional',
    source: database,
    description: "Stream of this region's replica of the applicants table",
    example: 'arn:aws:dynamodb:ap-south-1:123456789012:table/movement-pass-prod-applicants/stream/...',
  },
  passesTable: {
    kind: 'string',
    presence: 'always',
    writer: 'stack',
    scope: 'global',
    source: database,
    description: 'Passes table',
    example: 'movement-pass-prod-passes',
  },
  passesTableStreamArn: {
    kind: 'arn',
    presence: 'always',
    writer: 'stack',
    scope: 'regional',
    source: database,
    description: "Stream of this region's replica of the passes table",
    example: 'arn:aws:dynamodb:ap-south-1:123456789012:table/movement-pass-prod-passes/stream/...',
  },
  passesLoadQueueUrl: {
    kind: 'url',
    presence: 'always',
    writer: 'stack',
    scope: 'regional',
    source: queue,
    description: "This region's passes load FIFO queue",
    example: 'https://sqs.ap-south-1.amazonaws.com/123456789012/movement-pass-prod-passes-load.fifo',
  },
  passesLoadQueueArn: {
    kind: 'arn',
    presence: 'always',
    writer: 'stack',
    scope: 'regional',
    source: queue,
    description: "This region's passes load FIFO queue",
    example: 'arn:aws:sqs:ap-south-1:123456789012:movement-pass-prod-passes-load.fifo',
  },
  passesLoadDeadLetterQueueUrl: {
    kind: 'url',
    presence: 'always',
    writer: 'stack',
    scope: 'regional',
    source: queue,
    description: "Dead-letter queue of this region's passes load queue",
    example: 'https://sqs.ap-south-1.amazonaws.com/123456789012/movement-pass-prod-passes-load-dlq.fifo',
  },
} as const satisfies Record<string, KeyDeclaration>;

/** The secret keys, under `/movement-pass-signing/<stage>/`, SecureStrings. */
export const signingKeys = {
  jwtPrivateKey: {
    kind: 'pem',
    presence: 'asymmetric',
    writer: 'keyRing',
    scope: 'global',
    source: keyRing,
    description: 'Signs the JWTs: PKCS#8 PEM (RS256: RSA 2048, ES256: P-256)',
    example: '-----BEGIN PRIVATE KEY-----...',
  },
  jwtSecret: {
    kind: 'string',
    presence: 'symmetric',
    writer: 'keyRing',
    scope: 'global',
    source: keyRing,
    description: 'Signs and verifies the JWTs with HS256: 256 random bits, base64url, used as its UTF-8 bytes',
    example: '43 base64url characters',
  },
  photoUrlPrivateKey: {
    kind: 'pem',
    presence: 'always',
    writer: 'signingKey',
    scope: 'global',
    source: signingKey,
    description: 'Signs the photo URLs: PKCS#8 PEM, RSA 2048',
    example: '-----BEGIN PRIVATE KEY-----...',
  },
} as const satisfies Record<string, KeyDeclaration>;

export type ContractKey = keyof typeof contractKeys;
export type SigningKeyName = keyof typeof signingKeys;

/** A JSON Web Key Set as the contract publishes it. */
export interface PublishedJwks {
  readonly keys: readonly ({ readonly kid: string; readonly kty: string; readonly alg?: string } & Record<string, unknown>)[];
}

/** The type each kind of value is handed out as. */
export interface ValueTypes {
  string: string;
  number: number;
  url: string;
  arn: string;
  jwks: PublishedJwks;
  pem: string;
  algorithm: JwtAlgorithm;
  duration: string;
}

type Declared = typeof contractKeys;
type KeysWhere<P extends Presence> = { [K in ContractKey]: Declared[K]['presence'] extends P ? K : never }[ContractKey];

/**
 * The contract of one stage: every key typed, the ones a stage may lack optional (the certificate
 * ARNs on sandboxes, `jwtPublicKey` with HS256). Keys this version of the client does not know
 * are kept as strings, untyped.
 */
export type FoundationConfig = {
  readonly [K in KeysWhere<'always'>]: ValueTypes[Declared[K]['kind']];
} & {
  readonly [K in Exclude<ContractKey, KeysWhere<'always'>>]?: ValueTypes[Declared[K]['kind']];
} & { readonly [key: string]: unknown };

/** The signing keys a signer loaded: the JWT key of the stage's algorithm, the photo URL key. */
export interface SigningKeys {
  readonly jwtPrivateKey?: string;
  readonly jwtSecret?: string;
  readonly photoUrlPrivateKey?: string;
}
