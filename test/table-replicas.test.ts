// The tables in a secondary region's stack: looked up, never owned. The regional templates of prod
// and of an opted-in sandbox publish the home table names and the local replica's streams, and
// the lookup function may only describe this stage's two tables and list CloudFront's resources.
import { describe, expect, it } from 'vitest';
import { functionLogicalId } from '../resources/functions';
import { lookupIds, lookupTypes, regionalLookupFunctionName } from '../resources/regional-lookup';
import { optedInSandbox, readTemplate, type TestedStack } from './package-stage';
import { contractParameters, ownStackStatement, resource, resourcesOfType } from './template';

const regionalStacks = [
  ['prod', 'prod.ap-southeast-1'],
  [optedInSandbox, `${optedInSandbox}.ap-southeast-1`],
] as const satisfies readonly (readonly [string, TestedStack])[];

const lookupFunctionId = functionLogicalId(regionalLookupFunctionName);
const lookupRoleId = lookupFunctionId.replace(/LambdaFunction$/, 'Role');

for (const [stage, stack] of regionalStacks) {
  describe(`${stack} (the regional stack of ${stage})`, () => {
    const template = readTemplate(stack);

    it('holds no DynamoDB resource: the home global table owns every replica', () => {
      const dynamodb = Object.entries(template.Resources).filter(([, r]) => r.Type.startsWith('AWS::DynamoDB::'));
      expect(dynamodb.map(([id]) => id)).toEqual([]);
    });

    it("looks up this region's replica of each table through the lookup function", () => {
      for (const [id, table] of [
        [lookupIds.applicantsTable, `movement-pass-${stage}-applicants`],
        [lookupIds.passesTable, `movement-pass-${stage}-passes`],
      ]) {
        const lookup = resource(template, id, lookupTypes.tableReplica.type);
        expect(lookup.Properties.TableName).toBe(table);
        expect(lookup.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [lookupFunctionId, 'Arn'] });
        // CloudFormation waits for an answer this long at most, longer than the function may run.
        expect(lookup.Properties.ServiceTimeout).toBeGreaterThan(resource(template, lookupFunctionId).Properties.Timeout);
      }
    });

    it('publishes the home table names and the streams of the local replicas in the contract', () => {
      const parameters = contractParameters(template, stage);
      expect(parameters.applicantsTable.Properties.Value).toBe(`movement-pass-${stage}-applicants`);
      expect(parameters.passesTable.Properties.Value).toBe(`movement-pass-${stage}-passes`);
      expect(parameters.applicantsTableStreamArn.Properties.Value).toEqual({ 'Fn::GetAtt': [lookupIds.applicantsTable, 'StreamArn'] });
      expect(parameters.passesTableStreamArn.Properties.Value).toEqual({ 'Fn::GetAtt': [lookupIds.passesTable, 'StreamArn'] });
      expect(template.Outputs?.PassesTableStreamArn?.Value).toEqual({ 'Fn::GetAtt': [lookupIds.passesTable, 'StreamArn'] });
      expect(template.Outputs?.ApplicantsTableName?.Value).toBe(`movement-pass-${stage}-applicants`);
    });

    it('gives the lookup function a least-privilege role: describe its two tables here, list CloudFront', () => {
      const fn = resource(template, lookupFunctionId, 'AWS::Lambda::Function');
      expect(fn.Properties.Role).toEqual({ 'Fn::GetAtt': [lookupRoleId, 'Arn'] });
      const role = resource(template, lookupRoleId, 'AWS::IAM::Role');
      const statements = role.Properties.Policies.flatMap(
        (policy: { PolicyDocument: { Statement: unknown[] } }) => policy.PolicyDocument.Statement,
      );
      const tableArn = (name: string) => ({
        'Fn::Sub': `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/movement-pass-${stage}-${name}`,
      });
      expect(statements).toEqual([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: {
            'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/movement-pass-foundation-${stage}-${regionalLookupFunctionName}:*`,
          },
        },
        { Effect: 'Allow', Action: 'dynamodb:DescribeTable', Resource: [tableArn('applicants'), tableArn('passes')] },
        { Effect: 'Allow', Action: ['cloudfront:ListDistributions', 'cloudfront:ListPublicKeys'], Resource: '*' },
        ownStackStatement,
      ]);
    });
  });

  describe(`${stage} (home)`, () => {
    const template = readTemplate(stage);
    it('owns the global tables and has no lookup function: nothing to look up at home', () => {
      expect(Object.keys(resourcesOfType(template, 'AWS::DynamoDB::GlobalTable')).sort()).toEqual(['ApplicantsTable', 'PassesTable']);
      expect(template.Resources[lookupFunctionId]).toBeUndefined();
      expect(Object.keys(resourcesOfType(template, lookupTypes.tableReplica.type))).toEqual([]);
      expect(contractParameters(template, stage).passesTableStreamArn.Properties.Value).toEqual({
        'Fn::GetAtt': ['PassesTable', 'StreamArn'],
      });
    });
  });
}
