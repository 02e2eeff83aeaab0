// The key id of an HS256 secret, derived in one place: the key ring publishes it as `jwtKeyId`,
// `sls verify` checks the loaded secret against it.
import { createHmac } from 'node:crypto';

/** A one-way id: an HMAC of a fixed string under the secret names it without revealing it. */
export const hs256KeyId = (secret: string): string => createHmac('sha256', secret).update('movement-pass key id').digest('base64url');
