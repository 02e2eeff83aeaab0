// @movement-pass/foundation-client: typed access to the Movement Pass foundation of a stage.
export {
  ConfigCache,
  contractStrings,
  defaultConfigCache,
  type LoadOptions,
  loadFoundationConfig,
  parseContract,
  readParametersByPath,
  type SsmSender,
} from './config.js';
export {
  type ContractKey,
  contractKeys,
  contractRoot,
  type FoundationConfig,
  type JwtAlgorithm,
  type KeyDeclaration,
  type PublishedJwks,
  type Scope,
  type SigningKeyName,
  type SigningKeys,
  signingKeys,
  signingRoot,
  type ValueKind,
} from './contract.js';
export { FoundationConfigError, type FoundationErrorCode } from './errors.js';
export { hs256KeyId } from './key-id.js';
export { type PresignedUpload, presignPhotoUpload, signPhotoUrl } from './photos.js';
export { type LoadSigningKeysOptions, loadSigningKeys, type SigningSsmSender, type SigningUse } from './signing.js';
export { createTokenSigner, createTokenVerifier, type TokenSigner, type TokenVerifier, type VerifierOptions } from './tokens.js';
