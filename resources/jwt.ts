// JWT configuration: the signing keys are generated inside AWS by the key ring custom resource
// and written straight to SSM (private key in the signing root, public side in the contract);
// the static settings are plain parameters.
import { contractParameter, type Fragment, getAtt, type Intrinsic, output } from './cloudformation';
import { jwtKeyRingProperties, keyRingResource } from './key-ring';
import type { StageSettings } from './stage';

export { jwtKeyRingProperties } from './key-ring';

export function jwt(settings: StageSettings, jwksUrl: Intrinsic): Fragment {
  return {
    Resources: {
      JwtKeyRing: keyRingResource(settings, 'JwtKeyRing', jwtKeyRingProperties(settings)),
      JwtAlgorithmParameter: contractParameter(settings, 'jwtAlgorithm', settings.jwt.algorithm, 'JWT signing algorithm'),
      JwtIssuerParameter: contractParameter(settings, 'jwtIssuer', settings.jwt.issuer, 'JWT issuer (iss)'),
      JwtAudienceParameter: contractParameter(settings, 'jwtAudience', settings.jwt.audience, 'JWT audience (aud)'),
      JwtExpireParameter: contractParameter(settings, 'jwtExpire', settings.jwt.expire, 'JWT lifetime, e.g. 1h'),
      JwksUrlParameter: contractParameter(settings, 'jwksUrl', jwksUrl, 'URL of the JWKS that verifies the JWTs'),
    },
    Outputs: {
      JwksUrl: output('URL of the JWKS that verifies the JWTs', jwksUrl),
      JwtKeyId: output('Key id (kid) of the current JWT signing key', getAtt('JwtKeyRing', 'KeyId')),
    },
  };
}
