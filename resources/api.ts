// The foundation's small REST API: `GET /.well-known/jwks.json`, answered by API Gateway itself
// (a MOCK integration holding the document) so no Lambda runs on the request path. The JWKS only
// changes when the key ring does, on deploy, and each change gets its own API deployment.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-mock-integration.html
import { createHash } from 'node:crypto';
import { type Fragment, getAtt, type Intrinsic, output, ref, sub } from './cloudformation';
import { physicalName, type StageSettings } from './stage';

/** osls's own logical id for a REST API: serverless-domain-manager finds the API by it. */
export const restApiId = 'ApiGatewayRestApi';
export const jwksPath = '/.well-known/jwks.json';
/** Verifiers cache the keys this long; a rotation publishes the new key before anyone signs with it. */
export const jwksCacheSeconds = 300;

/**
 * The foundation API's path on `public-api.<domain>`: the root stays free for the public API
 * service, which maps its own API there. A single-segment base path works with every API
 * Gateway domain (multi-level ones need the ApiGatewayV2 mapping API).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mappings.html
 */
export const apiBasePath = 'foundation';
export const apiHostname = (settings: StageSettings) => `public-api.${settings.domain}`;

/** Where the API answers: its custom domain on a shared stage, its execute-api URL in a sandbox. */
export const apiBaseUrl = (settings: StageSettings): Intrinsic =>
  settings.customDomain
    ? `https://${apiHostname(settings)}/${apiBasePath}`
    : sub(`https://\${${restApiId}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}/${settings.stage}`);

/** serverless-domain-manager's settings: the custom domain, its DNS records and the base path mapping. */
export function apiDomainPluginConfig(settings: StageSettings) {
  return {
    enabled: settings.customDomain,
    domainName: apiHostname(settings),
    // The home-region certificate of plugins/certificates.js (`<domain>` + `*.<domain>`). On
    // deploy the plugin also sets `certificateArn` to the very certificate it validated, so the
    // domain plugin skips its by-name lookup (which takes the first match, whatever its status);
    // the name serves the domain plugin's own commands (`sls create_domain`).
    certificateName: settings.domain,
    basePath: apiBasePath,
    stage: settings.stage,
    apiType: 'rest',
    endpointType: 'regional',
    securityPolicy: 'tls_1_2',
    createRoute53Record: true,
    createRoute53IPv6Record: true,
    // The domain is created on deploy (after the certificates, before the stack) ...
    autoDomain: true,
    // ... and shared: the public API service's mapping at the root must survive our deploys.
    preserveExternalPathMappings: true,
  };
}

export function api(settings: StageSettings, jwksDocument: Intrinsic, jwksSource: Intrinsic): Fragment {
  const jwksMethod = {
    Type: 'AWS::ApiGateway::Method',
    Properties: {
      RestApiId: ref(restApiId),
      ResourceId: ref('JwksResource'),
      HttpMethod: 'GET',
      // The JWKS is public by definition: anyone verifying a token must be able to read it.
      AuthorizationType: 'NONE',
      Integration: {
        Type: 'MOCK',
        RequestTemplates: { 'application/json': '{"statusCode": 200}' },
        IntegrationResponses: [
          {
            StatusCode: '200',
            ResponseTemplates: { 'application/json': jwksDocument },
            ResponseParameters: {
              'method.response.header.Cache-Control': `'public, max-age=${jwksCacheSeconds}'`,
              'method.response.header.Access-Control-Allow-Origin': "'*'",
            },
          },
        ],
      },
      MethodResponses: [
        {
          StatusCode: '200',
          ResponseParameters: {
            'method.response.header.Cache-Control': true,
            'method.response.header.Access-Control-Allow-Origin': true,
          },
        },
      ],
    },
  };
  // A deployment is a snapshot: a new logical id whenever the method or the key ring changes
  // makes CloudFormation deploy the API again, after the key ring has answered.
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([jwksMethod, jwksSource]))
    .digest('hex')
    .slice(0, 12);
  const deploymentId = `ApiDeployment${fingerprint}`;

  return {
    Resources: {
      [restApiId]: {
        Type: 'AWS::ApiGateway::RestApi',
        Properties: {
          Name: physicalName(settings, 'foundation-api'),
          Description: 'Movement Pass foundation: public JWKS',
          EndpointConfiguration: { Types: ['REGIONAL'] },
        },
      },
      WellKnownResource: {
        Type: 'AWS::ApiGateway::Resource',
        Properties: { RestApiId: ref(restApiId), ParentId: getAtt(restApiId, 'RootResourceId'), PathPart: '.well-known' },
      },
      JwksResource: {
        Type: 'AWS::ApiGateway::Resource',
        Properties: { RestApiId: ref(restApiId), ParentId: ref('WellKnownResource'), PathPart: 'jwks.json' },
      },
      JwksMethod: jwksMethod,
      [deploymentId]: {
        Type: 'AWS::ApiGateway::Deployment',
        DependsOn: ['JwksMethod'],
        Properties: { RestApiId: ref(restApiId), Description: `JWKS ${fingerprint}` },
      },
      ApiStage: {
        Type: 'AWS::ApiGateway::Stage',
        Properties: {
          RestApiId: ref(restApiId),
          DeploymentId: ref(deploymentId),
          StageName: settings.stage,
          Description: `Stage ${settings.stage} of the foundation API`,
          TracingEnabled: true,
          // A cacheable public document: a low ceiling keeps abuse cheap.
          MethodSettings: [
            { ResourcePath: '/*', HttpMethod: '*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100, MetricsEnabled: true },
          ],
        },
      },
    },
    Outputs: {
      FoundationApiUrl: output('Base URL of the foundation API', apiBaseUrl(settings)),
    },
  };
}
