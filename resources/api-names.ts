// The foundation API's names that other modules point at (its alarms, its health check, the
// JWKS URL): a leaf module, so that they import no part of the API's construction.

/** osls's own logical id for a REST API: serverless-domain-manager finds the API by it. */
export const restApiId = 'ApiGatewayRestApi';
export const jwksPath = '/.well-known/jwks.json';
/** The health route Route 53 checks on each region's own hostname (resources/region-health.ts). */
export const healthPath = '/health';
