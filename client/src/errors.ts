// The client's one error class: a stable `code` to branch on, a message naming the key or path.

export type FoundationErrorCode =
  /** Contract keys the stage must hold are not in SSM: `keys` names them, `path` says where. */
  | 'FOUNDATION_KEYS_MISSING'
  /** A value does not parse as its declared type (a number, a JWKS, a URL, ...). */
  | 'FOUNDATION_VALUE_INVALID'
  /** The signing keys asked for are not in the signing root (or this principal may not read them). */
  | 'FOUNDATION_SIGNING_KEYS_MISSING'
  /** A helper was called with options it cannot work with. */
  | 'FOUNDATION_INVALID_ARGUMENT';

export class FoundationConfigError extends Error {
  readonly code: FoundationErrorCode;
  /** The SSM path the error is about, when it is about one. */
  readonly path?: string;
  /** The keys the error is about. */
  readonly keys: readonly string[];

  constructor(code: FoundationErrorCode, message: string, details: { path?: string; keys?: readonly string[]; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'FoundationConfigError';
    this.code = code;
    this.path = details.path;
    this.keys = Object.freeze([...(details.keys ?? [])]);
  }
}
