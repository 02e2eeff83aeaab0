// Loading the contract: every page of the stage's root, values parsed to their declared types,
// missing keys named, the result frozen and cached per SSM client, stage and region for a set time.
import { GetParametersByPathCommand, type Parameter, SSMClient } from '@aws-sdk/client-ssm';
import {
  type ContractKey,
  contractKeys,
  contractRoot,
  type FoundationConfig,
  jwtAlgorithms,
  type KeyDeclaration,
  signingKeys,
  type ValueKind,
} from './contract.js';
import { FoundationConfigError } from './errors.js';

/** What the client needs of an SSM client: an `SSMClient`, or anything that answers its commands the same way. */
export interface SsmSender {
  send(command: GetParametersByPathCommand): Promise<{ Parameters?: Parameter[]; NextToken?: string }>;
}

export interface LoadOptions {
  stage: string;
  /** Default: `AWS_REGION`, then the foundation's home region. */
  region?: string;
  /** Default: a new `SSMClient` of the region. */
  ssm?: SsmSender;
  /** Default: `defaultConfigCache` (5 minutes); `false` reads SSM every time. */
  cache?: ConfigCache | false;
}

/** Where `ConfigCache` files the loads of the SSM client `loadFoundationConfig` builds itself. */
const ownClient = {};

/**
 * Remembers loaded contracts per SSM client, stage and region for `ttlSeconds` (a client given by
 * the caller may have other credentials or another account: it never shares another's result);
 * concurrent loads share one read.
 */
export class ConfigCache {
  readonly ttlSeconds: number;
  private readonly now: () => number;
  private entries = new WeakMap<object, Map<string, { expiresAt: number; value: Promise<FoundationConfig> }>>();

  constructor(options: { ttlSeconds: number; now?: () => number }) {
    if (!(options.ttlSeconds >= 0)) {
      throw new FoundationConfigError('FOUNDATION_INVALID_ARGUMENT', `ttlSeconds must be 0 or more, got ${options.ttlSeconds}.`);
    }
    this.ttlSeconds = options.ttlSeconds;
    this.now = options.now ?? Date.now;
  }

  /**
   * The cached contract, or the one `load` gives (a failed load is not remembered). `ssm` is the
   * client `load` reads with; without it, the client `loadFoundationConfig` builds itself.
   */
  get(stage: string, region: string, load: () => Promise<FoundationConfig>, ssm?: object): Promise<FoundationConfig> {
    const client = ssm ?? ownClient;
    const entries = this.entries.get(client) ?? new Map<string, { expiresAt: number; value: Promise<FoundationConfig> }>();
    this.entries.set(client, entries);
    const key = `${region}\u0000${stage}`;
    const entry = entries.get(key);
    if (entry && entry.expiresAt > this.now()) return entry.value;
    const value = load();
    entries.set(key, { expiresAt: this.now() + this.ttlSeconds * 1000, value });
    value.catch(() => {
      if (entries.get(key)?.value === value) entries.delete(key);
    });
    return value;
  }

  clear(): void {
    this.entries = new WeakMap();
  }
}

/** The cache `loadFoundationConfig` uses unless told otherwise: the module's only state. */
export const defaultConfigCache = new ConfigCache({ ttlSeconds: 300 });

/**
 * The region the foundation is read in: the one given, or the one the environment names (Lambda
 * sets AWS_REGION). Never a default: a service in the secondary region that fell back to the home
 * region would depend on it, and stop when home is down.
 */
export function resolveRegion(region?: string): string {
  const resolved = region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!resolved) {
    throw new Error(
      `No AWS region to read the foundation in: pass { region } or set AWS_REGION (Lambda sets it), e.g. ap-south-1. ` +
        "Each region has its own contract; the client never falls back to the home region's.",
    );
  }
  return resolved;
}

/**
 * Every parameter under a root (`/movement-pass/prod/`), all pages (SSM answers 10 at most per
 * page), keyed by the name after the root. Never decrypted: the contract root holds String
 * parameters only, and a SecureString's value stays ciphertext (see `contractStrings`).
 */
export async function readParametersByPath(ssm: SsmSender, root: string): Promise<Map<string, Parameter>> {
  const path = root.endsWith('/') ? root : `${root}/`;
  const found = new Map<string, Parameter>();
  let NextToken: string | undefined;
  do {
    const page = await ssm.send(
      // SSM's path is the hierarchy without its trailing slash.
      new GetParametersByPathCommand({ Path: path.slice(0, -1), Recursive: true, NextToken }),
    );
    for (const parameter of page.Parameters ?? []) {
      if (parameter.Name?.startsWith(path)) found.set(parameter.Name.slice(path.length), parameter);
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return found;
}

/**
 * The String values of a contract root, for `parseContract`. SecureStrings are left out (a stage
 * deployed before the signing root kept its signing keys there); a declared key stored as a
 * SecureString fails, naming the key and its type, never showing the value.
 */
export function contractStrings(parameters: ReadonlyMap<string, Parameter>, path: string): Map<string, string> {
  const strings = new Map<string, string>();
  for (const [key, parameter] of parameters) {
    if (parameter.Type === 'SecureString') {
      if (Object.hasOwn(contractKeys, key) && !Object.hasOwn(signingKeys, key)) {
        const { kind } = (contractKeys as Record<string, KeyDeclaration>)[key];
        throw new FoundationConfigError(
          'FOUNDATION_VALUE_INVALID',
          `${path}${key} is a SecureString; the contract holds it as a String parameter (${kind}). ` +
            'Redeploy the stage (npx sls deploy --stage <stage>) so the foundation writes it again.',
          { path, keys: [key] },
        );
      }
      continue;
    }
    strings.set(key, parameter.Value ?? '');
  }
  return strings;
}

function invalid(path: string, key: string, expected: string, value: string): FoundationConfigError {
  const shown = value.length > 60 ? `${value.slice(0, 60)}...` : value;
  return new FoundationConfigError('FOUNDATION_VALUE_INVALID', `${path}${key} is not ${expected}: "${shown}".`, { path, keys: [key] });
}

/** One SSM string as its declared kind; throws naming the key when it does not parse. */
export function parseValue(kind: ValueKind, value: string, key: string, path: string): unknown {
  switch (kind) {
    case 'number': {
      const number = Number(value);
      if (value.trim() === '' || !Number.isFinite(number)) throw invalid(path, key, 'a number', value);
      return number;
    }
    case 'jwks': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        throw invalid(path, key, 'JSON', value);
      }
      const keys = (parsed as { keys?: unknown })?.keys;
      if (!Array.isArray(keys) || !keys.every((jwk) => typeof jwk?.kid === 'string' && typeof jwk?.kty === 'string')) {
        throw invalid(path, key, 'a JWKS ({"keys":[...]} with a kid and kty in every key)', value);
      }
      return deepFreeze(parsed);
    }
    case 'url':
      if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) throw invalid(path, key, 'an http(s) URL', value);
      return value;
    case 'arn':
      if (!/^arn:[^:]+:[^:]+:[^:]*:[^:]*:.+/.test(value)) throw invalid(path, key, 'an ARN', value);
      return value;
    case 'algorithm':
      if (!(jwtAlgorithms as readonly string[]).includes(value)) throw invalid(path, key, `one of ${jwtAlgorithms.join(', ')}`, value);
      return value;
    case 'pem':
      if (!/^-----BEGIN [A-Z ]+-----/.test(value.trim())) throw invalid(path, key, 'a PEM block', value);
      return value;
    case 'duration':
      if (!/^\d+\s*[a-z]+$/i.test(value)) throw invalid(path, key, 'a duration such as 1h', value);
      return value;
    default:
      return value;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The keys a stage must hold given what it holds (the JWT algorithm decides between the public key and none). */
export function requiredKeys(values: ReadonlyMap<string, unknown>): ContractKey[] {
  const symmetric = values.get('jwtAlgorithm') === 'HS256';
  return (Object.entries(contractKeys) as [ContractKey, KeyDeclaration][])
    .filter(([, declaration]) => declaration.presence === 'always' || (declaration.presence === 'asymmetric' && !symmetric))
    .map(([key]) => key);
}

/**
 * Parses the parameters of a contract root into the typed contract. The signing keys are never
 * part of it, even where a stage deployed before the signing root keeps them under the contract
 * root. With `partial`, missing keys are left out instead of failing (for tools that show what a
 * stage holds so far).
 */
export function parseContract(
  parameters: ReadonlyMap<string, string>,
  options: { path: string; partial?: boolean },
): { config: FoundationConfig; missing: ContractKey[] } {
  const values = new Map<string, unknown>();
  for (const [key, value] of parameters) {
    if (Object.hasOwn(signingKeys, key)) continue;
    const declaration = Object.hasOwn(contractKeys, key) ? (contractKeys as Record<string, KeyDeclaration>)[key] : undefined;
    values.set(key, declaration ? parseValue(declaration.kind, value, key, options.path) : value);
  }
  const missing = requiredKeys(values).filter((key) => !values.has(key));
  if (missing.length > 0 && !options.partial) {
    throw new FoundationConfigError(
      'FOUNDATION_KEYS_MISSING',
      `The foundation contract at ${options.path} lacks ${missing.join(', ')}. ` +
        'Check the stage and region, and that this stage is deployed (npx sls deploy --stage <stage>) by a foundation of this contract version.',
      { path: options.path, keys: missing },
    );
  }
  return { config: Object.freeze(Object.fromEntries(values)) as FoundationConfig, missing };
}

/**
 * The whole contract of a stage: every page of `/movement-pass/<stage>/`, its String parameters
 * typed, frozen. Fails with `FOUNDATION_KEYS_MISSING` naming every missing key and the path.
 */
export function loadFoundationConfig(options: LoadOptions): Promise<FoundationConfig> {
  const { stage } = options;
  if (typeof stage !== 'string' || !/^[a-z][a-z0-9-]*$/.test(stage)) {
    return Promise.reject(
      new FoundationConfigError(
        'FOUNDATION_INVALID_ARGUMENT',
        `stage must be a foundation stage name such as "prod", got ${JSON.stringify(stage)}.`,
      ),
    );
  }
  let region: string;
  try {
    // A client given is read in its own region (and cached per client); one built here needs a region.
    region = options.region ?? (options.ssm ? '' : resolveRegion());
  } catch (error) {
    return Promise.reject(new FoundationConfigError('FOUNDATION_INVALID_ARGUMENT', (error as Error).message));
  }
  const load = async () => {
    const path = contractRoot(stage);
    const ssm = options.ssm ?? new SSMClient({ region });
    return parseContract(contractStrings(await readParametersByPath(ssm, path), path), { path }).config;
  };
  const cache = options.cache ?? defaultConfigCache;
  return cache === false ? load() : cache.get(stage, region, load, options.ssm);
}
