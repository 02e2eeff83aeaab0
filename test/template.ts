// Queries over a packaged template by type and property, in the spirit of aws-cdk's assertions.
import { expect } from 'vitest';
import type { Template } from './package-stage';

export type Resource = Template['Resources'][string];

export function resourcesOfType(template: Template, type: string): Record<string, Resource> {
  return Object.fromEntries(Object.entries(template.Resources).filter(([, resource]) => resource.Type === type));
}

export function resourceCountIs(template: Template, type: string, count: number): void {
  expect(Object.keys(resourcesOfType(template, type)), type).toHaveLength(count);
}

export function resource(template: Template, logicalId: string, type?: string): Resource {
  const found = template.Resources[logicalId];
  expect(found, `resource ${logicalId}`).toBeDefined();
  if (type) expect(found.Type).toBe(type);
  return found;
}

/** The SSM parameters of the template, keyed by their name under the stage's root. */
export function contractParameters(template: Template, stage: string): Record<string, Resource> {
  const root = `/movement-pass/${stage}/`;
  const parameters: Record<string, Resource> = {};
  for (const parameter of Object.values(resourcesOfType(template, 'AWS::SSM::Parameter'))) {
    const name = parameter.Properties?.Name as string;
    expect(name.startsWith(root), `${name} is under ${root}`).toBe(true);
    parameters[name.slice(root.length)] = parameter;
  }
  return parameters;
}

/** The statement every custom-resource function's role ends with: its own stack's records, to check each event against. */
export const ownStackStatement = {
  Effect: 'Allow',
  Action: ['cloudformation:DescribeStackResource', 'cloudformation:DescribeStacks'],
  Resource: { Ref: 'AWS::StackId' },
};
