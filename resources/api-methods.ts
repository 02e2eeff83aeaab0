// The foundation API's methods: each a public GET that API Gateway answers itself (a MOCK
// integration), so no Lambda runs on the request path.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-mock-integration.html
import { restApiId } from './api-names';
import { type CfnResource, type Intrinsic, ref } from './cloudformation';

/**
 * A GET on `resourceId` answering 200 with `body` and `headers` (names to their quoted values, as
 * API Gateway writes static header values). No authorization: what it serves is public.
 */
export function mockGetMethod(resourceId: string, body: Intrinsic, headers: Record<string, string>): CfnResource {
  const header = (name: string) => `method.response.header.${name}`;
  return {
    Type: 'AWS::ApiGateway::Method',
    Properties: {
      RestApiId: ref(restApiId),
      ResourceId: ref(resourceId),
      HttpMethod: 'GET',
      AuthorizationType: 'NONE',
      Integration: {
        Type: 'MOCK',
        RequestTemplates: { 'application/json': '{"statusCode": 200}' },
        IntegrationResponses: [
          {
            StatusCode: '200',
            ResponseTemplates: { 'application/json': body },
            ResponseParameters: Object.fromEntries(Object.entries(headers).map(([name, value]) => [header(name), value])),
          },
        ],
      },
      MethodResponses: [
        { StatusCode: '200', ResponseParameters: Object.fromEntries(Object.keys(headers).map((name) => [header(name), true])) },
      ],
    },
  };
}
