// The foundation's small REST API: `GET /.well-known/jwks.json`, answered by API Gateway itself
// (a MOCK integration holding the document) so no Lambda runs on the request path. The JWKS only
// changes when the key ring does, on deploy, and each change gets its own API deployment.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-mock-integration.html
import { createHash } from 'node:crypto';
import { apiAccessLogSetting, apiLoggingDependencies } from './access-logs';
import { mockGetMethod } from './api-methods';
import { restApiId } from './api-names';
import { type Fragment, getAtt, type Intrinsic, output, ref, sub } from './cloudformation';
import { physicalName } from './names';
import { healthMethod, healthMethodSettings } from './region-health';
import { isHomeRegion, type StageSettings } from './stage';

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

/**
 * Where the API answers: its custom domain in the home region of a shared stage, its execute-api
 * URL in a sandbox. In a secondary region too: the contract there names the local API, which
 * serves verifiers of that region whether or not `public-api.<domain>` has failed over to it.
 */
export const apiBaseUrl = (settings: StageSettings): Intrinsic =>
  settings.customDomain && isHomeRegion(settings)
    ? `https://${apiHostname(settings)}/${apiBasePath}`
    : sub(`https://\${${restApiId}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}/${settings.stage}`);

/**
 * serverless-domain-manager's settings: the regional custom domain of the stack's region (it
 * creates the domain where osls deploys) and the base path mapping; not the DNS records.
 */
export function apiDomainPluginConfig(settings: StageSettings) {
  return {
    enabled: settings.customDomain,
    domainName: apiHostname(settings),
    // The region's own certificate of plugins/certificates.js (`<domain>` + `*.<domain>`). On
    // deploy the plugin also sets `certificateArn` to the very certificate it validated, so the
    // domain plugin skips its by-name lookup (which takes the first match, whatever its status);
    // the name serves the domain plugin's own commands (`sls create_domain`).
    certificateName: settings.domain,
    basePath: apiBasePath,
    stage: settings.stage,
    apiType: 'rest',
    endpointType: 'regional',
    securityPolicy: 'tls_1_2',
    // In the stack's region, with its own certificate. The domain plugin writes simple records
    // only; `public-api` fails over between regions, so plugins/failover-dns.js writes them.
    createRoute53Record: false,
    createRoute53IPv6Record: false,
    // The domain is created on deploy (after the certificates, before the stack) ...
    autoDomain: true,
    // ... and shared: the public API service's mapping at the root must survive our deploys.
    preserveExternalPathMappings: true,
  };
}

export function api(settings: StageSettings, jwksDocument: Intrinsic, jwksSource: Intrinsic): Fragment {
  // The JWKS is public by definition: anyone verifying a token must be able to read it.
  const jwksMethod = mockGetMethod('JwksResource', jwksDocument, {
    'Cache-Control': `'public, max-age=${jwksCacheSeconds}'`,
    'Access-Control-Allow-Origin': "'*'",
  });
  const health = healthMethod(settings);
  // A deployment is a snapshot: a new logical id whenever a method or the key ring changes
  // makes CloudFormation deploy the API again, after the key ring has answered.
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([jwksMethod, jwksSource, ...Object.values(health)]))
    .digest('hex')
    .slice(0, 12);
  const deploymentId = `ApiDeployment${fingerprint}`;
  const accessLog = apiAccessLogSetting(settings);
  const logging = apiLoggingDependencies(settings);

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
      ...health,
      [deploymentId]: {
        Type: 'AWS::ApiGateway::Deployment',
        DependsOn: ['JwksMethod', ...Object.keys(health).filter((id) => id.endsWith('Method'))],
        Properties: { RestApiId: ref(restApiId), Description: `JWKS ${fingerprint}` },
      },
      ApiStage: {
        Type: 'AWS::ApiGateway::Stage',
        ...(logging.length > 0 && { DependsOn: logging }),
        Properties: {
          RestApiId: ref(restApiId),
          DeploymentId: ref(deploymentId),
          StageName: settings.stage,
          Description: `Stage ${settings.stage} of the foundation API`,
          TracingEnabled: true,
          // Every caller shares this ceiling; the web ACL (shared stages) keeps one caller from using it all.
          MethodSettings: [
            {
              ResourcePath: '/*',
              HttpMethod: '*',
              ThrottlingRateLimit: settings.api.throttle.rateLimit,
              ThrottlingBurstLimit: settings.api.throttle.burstLimit,
              // Per-method metrics: the JWKS 5xx alarm reads them.
              MetricsEnabled: true,
              // Errors only: the access log already has every request.
              ...(accessLog && { LoggingLevel: 'ERROR', DataTraceEnabled: false }),
            },
            ...healthMethodSettings(settings),
          ],
          ...(accessLog && { AccessLogSetting: accessLog }),
        },
      },
      ...webAcl(settings),
    },
    Outputs: {
      FoundationApiUrl: output('Base URL of the foundation API', apiBaseUrl(settings)),
    },
  };
}

/**
 * A WAF web ACL in front of the API stage with one rate-based rule: a source IP above the limit
 * gets 429 for as long as it stays above it, without touching the stage throttle every verifier
 * shares. https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html
 */
function webAcl(settings: StageSettings): Fragment['Resources'] {
  const limit = settings.api.requestsPer5MinPerIp;
  if (limit === undefined) return {};
  const visibility = (name: string) => ({ SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: name });
  return {
    ApiWebAcl: {
      Type: 'AWS::WAFv2::WebACL',
      Properties: {
        Name: physicalName(settings, 'foundation-api'),
        // WAF takes letters, digits, spaces and + = : # @ / - , . only (no parentheses): CloudFormation
        // refuses anything else at deploy time, not at package time.
        Description: `Per-client limits of the foundation API, stage ${settings.stage}`,
        Scope: 'REGIONAL',
        DefaultAction: { Allow: {} },
        VisibilityConfig: visibility(physicalName(settings, 'foundation-api')),
        Rules: [
          {
            Name: 'requests-per-source-ip',
            Priority: 0,
            Statement: {
              RateBasedStatement: { Limit: limit, EvaluationWindowSec: 300, AggregateKeyType: 'IP' },
            },
            // 429 rather than WAF's default 403: clients retry a 429 later, as they do the stage throttle's.
            Action: { Block: { CustomResponse: { ResponseCode: 429 } } },
            VisibilityConfig: visibility(physicalName(settings, 'requests-per-source-ip')),
          },
        ],
      },
    },
    ApiWebAclAssociation: {
      Type: 'AWS::WAFv2::WebACLAssociation',
      Properties: {
        ResourceArn: sub(`arn:\${AWS::Partition}:apigateway:\${AWS::Region}::/restapis/\${${restApiId}}/stages/\${ApiStage}`),
        WebACLArn: getAtt('ApiWebAcl', 'Arn'),
      },
    },
  };
}
