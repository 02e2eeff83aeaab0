// The JWKS API of prod's secondary region (ap-southeast-1), as packaged: the same API, limits,
// web ACL, access logs and alarms as at home, and none of the home stack's CloudFront log delivery.
import { describe, expect, it } from 'vitest';
import { readTemplate, type Template } from './package-stage';
import { resource, resourceCountIs, resourcesOfType } from './template';

const home = readTemplate('prod');
const regional = readTemplate('prod.ap-southeast-1');

const properties = (template: Template, id: string) => resource(template, id).Properties;
const statementsOf = (template: Template, roleId: string): { Action: string | string[]; Resource: unknown }[] =>
  resource(template, roleId, 'AWS::IAM::Role').Properties.Policies[0].PolicyDocument.Statement;
const actionsOf = (template: Template, roleId: string) => statementsOf(template, roleId).flatMap((statement) => [statement.Action].flat());

describe('prod stage in its secondary region: the JWKS API', () => {
  it('serves the same JWKS method and stage as the home region, as a regional API', () => {
    for (const id of ['JwksMethod', 'WellKnownResource', 'JwksResource']) expect(properties(regional, id)).toEqual(properties(home, id));
    expect(properties(regional, 'ApiGatewayRestApi')).toEqual(properties(home, 'ApiGatewayRestApi'));
    expect(properties(regional, 'ApiGatewayRestApi').EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
  });

  it('throttles the stage and keeps access and execution logs as at home', () => {
    const stage = resource(regional, 'ApiStage', 'AWS::ApiGateway::Stage');
    const { DeploymentId: _home, ...homeStage } = properties(home, 'ApiStage');
    const { DeploymentId: _regional, ...regionalStage } = stage.Properties;
    expect(regionalStage).toEqual(homeStage);
    expect(stage.DependsOn).toEqual(resource(home, 'ApiStage').DependsOn);
    for (const id of ['ApiAccessLogGroup', 'ApiExecutionLogGroup']) {
      expect(resource(regional, id)).toEqual(resource(home, id));
    }
  });

  it('puts the same per-IP web ACL in front of the stage', () => {
    expect(properties(regional, 'ApiWebAcl')).toEqual(properties(home, 'ApiWebAcl'));
    expect(properties(regional, 'ApiWebAclAssociation')).toEqual(properties(home, 'ApiWebAclAssociation'));
  });

  it("raises the JWKS 5xx alarm on this region's API to this region's alarm topic", () => {
    const alarm = Object.values(resourcesOfType(regional, 'AWS::CloudWatch::Alarm')).find(
      (candidate) => candidate.Properties.MetricName === '5XXError',
    );
    expect(alarm?.Properties).toEqual(
      Object.values(resourcesOfType(home, 'AWS::CloudWatch::Alarm')).find((candidate) => candidate.Properties.MetricName === '5XXError')
        ?.Properties,
    );
    expect(alarm?.Properties.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
    resource(regional, 'AlarmTopic', 'AWS::SNS::Topic');
  });

  it('has no health check of its own: the failover control stack checks both regions', () => {
    resourceCountIs(regional, 'AWS::Route53::HealthCheck', 0);
    resourceCountIs(home, 'AWS::Route53::HealthCheck', 0);
    resourceCountIs(readTemplate('prod.us-east-1'), 'AWS::Route53::HealthCheck', 4);
  });
});

describe('prod stage in its secondary region: no CloudFront log delivery', () => {
  it('has no log bucket and no delivery of the photo distribution (the home stack has them)', () => {
    resourceCountIs(regional, 'Custom::CloudFrontLogDelivery', 0);
    expect(regional.Resources.AccessLogBucket).toBeUndefined();
    expect(regional.Outputs?.AccessLogBucketName).toBeUndefined();
    resourceCountIs(home, 'Custom::CloudFrontLogDelivery', 1);
  });

  it('has no access-log setup function: the account bootstrap sets the API Gateway role of every region', () => {
    expect(regional.Resources.AccessLogSetupLambdaFunction).toBeUndefined();
    expect(regional.Resources.AccessLogSetupRole).toBeUndefined();
    expect(actionsOf(home, 'AccessLogSetupRole')).toEqual(expect.arrayContaining(['logs:PutDeliverySource']));
    expect(actionsOf(home, 'AccessLogSetupRole')).not.toContain('apigateway:PATCH');
  });

  it("lets no log delivery use the region's observability key", () => {
    const principals = (template: Template) =>
      properties(template, 'ObservabilityKey').KeyPolicy.Statement.map((statement: { Principal: unknown }) => statement.Principal);
    expect(principals(regional)).not.toContainEqual({ Service: 'delivery.logs.amazonaws.com' });
    expect(principals(home)).toContainEqual({ Service: 'delivery.logs.amazonaws.com' });
    expect(principals(regional)).toContainEqual({ Service: { 'Fn::Sub': 'logs.${AWS::Region}.amazonaws.com' } });
  });
});
